// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers (docs/architecture.md): each imports only the layers below it.
 *   shells   src/action, src/container, src/cli, src/lib, src/entrypoints
 *   runner   src/runner, src/github
 *   engines  src/engines
 *   core     src/registry
 */
const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: forbidden.map((f) => `**/${f}/*`), message: why },
          {
            group: ['@actions/*'],
            message: 'only the GitHub shells and src/github talk to the runner',
          },
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
    ['src/registry/**/*.ts'],
    ['engines', 'runner', 'github', 'action', 'container', 'cli', 'lib', 'entrypoints'],
    'the core (src/registry) is pure: it imports no layer above it',
  ),
  layer(
    ['src/engines/**/*.ts'],
    ['runner', 'github', 'action', 'container', 'cli', 'lib', 'entrypoints'],
    'the engine adapter (src/engines) imports only the core',
  ),
  layer(
    ['src/runner/**/*.ts'],
    ['action', 'container', 'cli', 'lib', 'entrypoints'],
    'the runner layer imports only the engines and the core',
  ),
  layer(
    ['src/cli/**/*.ts', 'src/lib/**/*.ts'],
    ['action', 'container', 'github', 'entrypoints'],
    'the CLI and the library are shells of their own: no GitHub shell code',
  ),
);
