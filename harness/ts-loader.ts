// The one TypeScript loader for what runs outside vitest (test fixtures in child processes,
// the stand-in runner worker, bench/, scripts/): Node 24 strips the types itself; this resolve
// hook maps a relative `./x.js` that does not exist to the `./x.ts` beside it, the way
// tsc's NodeNext resolution reads the same import. Use: node --import ./harness/ts-loader.ts FILE.ts
import { registerHooks } from 'node:module';

if (!process.features.typescript) {
  throw new Error(
    `running TypeScript needs Node 24 (type stripping); this is ${process.version}. Run it through npm, which uses the node@24 devDependency`,
  );
}

registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (err) {
      const missing = (err as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND';
      if (missing && /^\.\.?\//.test(specifier) && specifier.endsWith('.js')) {
        return next(specifier.slice(0, -3) + '.ts', context);
      }
      throw err;
    }
  },
});
