// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers (docs/architecture.md): each imports only the layers below it.
 *   shells   src/action, src/container, src/cli, src/lib, src/entrypoints
 *   job      src/job
 *   engines  src/engines
 *   core     src/core
 * Only the GitHub shells (src/action, src/container) import @actions/*: the job layer
 * takes core.getInput, core.saveState, core.warning... as plain functions from them.
 */
const ACTIONS = 'only the GitHub shells (src/action, src/container) import @actions/*';

/** `files` may import no module under the `forbidden` folders, nor @actions/* unless `actions`. */
const layer = (files, forbidden, why, { actions = false } = {}) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...(forbidden.length > 0
            ? [{ group: forbidden.map((f) => `**/${f}/*`), message: why }]
            : []),
          ...(actions ? [] : [{ group: ['@actions/*'], message: ACTIONS }]),
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
  layer(
    ['src/core/**/*.ts'],
    ['engines', 'job', 'action', 'container', 'cli', 'lib', 'entrypoints'],
    'the core (src/core) is pure: it imports no layer above it',
  ),
  layer(
    ['src/engines/**/*.ts'],
    ['job', 'action', 'container', 'cli', 'lib', 'entrypoints'],
    'the engine adapter (src/engines) imports only the core',
  ),
  layer(
    ['src/job/**/*.ts'],
    ['action', 'container', 'cli', 'lib', 'entrypoints'],
    'the job layer (src/job) imports only the engines and the core',
  ),
  layer(
    ['src/action/**/*.ts'],
    ['container', 'cli', 'lib', 'entrypoints'],
    'the action (src/action) is a shell of its own: it imports the job layer, engines and core',
    { actions: true },
  ),
  layer(
    ['src/container/**/*.ts'],
    ['action', 'cli', 'lib', 'entrypoints'],
    'the container step (src/container) is a shell of its own: it imports the job layer, engines and core',
    { actions: true },
  ),
  layer(
    ['src/cli/**/*.ts', 'src/lib/**/*.ts'],
    ['action', 'container', 'entrypoints'],
    'the CLI and the library are shells of their own: no GitHub shell code',
  ),
  layer(['src/entrypoints/**/*.ts', 'src/*.ts'], [], ''),
);
