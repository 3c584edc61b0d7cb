// Load the registry engine straight from src/ (TypeScript) with Node 24's built-in type
// stripping. The engine's relative imports name `.js` files (NodeNext style); a small
// resolve hook falls back to the `.ts` file beside them. No build step, no extra package.
import * as nodeModule from 'node:module';

if (typeof nodeModule.registerHooks !== 'function' || !process.features.typescript) {
  throw new Error(
    `the benchmark needs Node 24 (type stripping and module.registerHooks); this is ${process.version}. Run it through npm (npm run bench), which uses the node@24 devDependency`,
  );
}

nodeModule.registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (err) {
      const fromTs = context.parentURL?.endsWith('.ts') === true;
      if (fromTs && specifier.startsWith('.') && specifier.endsWith('.js')) {
        return next(specifier.slice(0, -3) + '.ts', context);
      }
      throw err;
    }
  },
});

const src = new URL('../src/registry/', import.meta.url);
export const registry = await import(new URL('index.ts', src).href);
export const store = await import(new URL('store.ts', src).href);
export const lock = await import(new URL('lock.ts', src).href);
export const owner = await import(new URL('owner.ts', src).href);
export const probe = await import(new URL('probe.ts', src).href);
