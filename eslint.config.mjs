// ESLint (flat config): typescript-eslint's recommended rules, type-aware where it is cheap, over the
// library, the CLI entry points, tests, the benchmark, the demo and the build scripts. Formatting is
// Prettier's job (.prettierrc.json); eslint-config-prettier turns off every rule that would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', 'coverage/', 'reports/', '.stryker-tmp/', '.peer-floor-*/', 'bench/tmp/', '.moto/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.typecheck.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Type-aware rules that catch real faults at little cost: a promise nobody awaits loses its error.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // `_name` marks a parameter kept for its position (a callback's signature); everything else unused is an error.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Off: the codebase writes a literal hyphen in a character class escaped (`[A-Za-z0-9_.\-]`) on purpose, so
      // it reads as a hyphen, not a range. The escape is harmless; rewriting the tag and name patterns buys nothing.
      'no-useless-escape': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Off in tests only: they walk synthesized CloudFormation templates and policy JSON, which are untyped
      // (`Template.toJSON()` is `{ [key: string]: any }`); typing every fixture path would add casts, not safety.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
