// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'coverage/**',
      'test-output/**',
      'src/metadata.ts',
      'test/generated/**',
      'packages/sdk/src/**',
    ],
  },
  {
    files: ['{src,test,bench,migrations}/**/*.{ts,mts,mjs,cjs}', 'packages/*/{src,test}/**/*.{ts,mts,mjs,cjs}'],
    extends: [eslint.configs.recommended, tseslint.configs.recommendedTypeChecked, tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      parserOptions: {
        // Explicit projects rather than projectService: the root tsconfig.json is the build config and leaves out
        // specs and tests, which only tsconfig.check.json (and each package's own tsconfig) cover.
        project: ['./tsconfig.check.json', './packages/*/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A leading underscore marks a parameter a signature demands (Express knows an error handler by its four
      // arguments; fakes implement interfaces); a rest sibling is how an object drops a key.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // For strings `||` is meant: an empty env var, header or Twilio field counts as absent, which `??` would keep.
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
    },
  },
  {
    files: ['test/**/*.{ts,mts}', 'src/**/*.spec.ts', 'packages/*/test/**/*.{ts,mts}', 'packages/*/src/**/*.spec.ts'],
    rules: {
      // supertest and fetch hand tests an untyped (`any`) body; specs assert on its values, which fail loudly when wrong.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Fakes implement async interfaces (gateway, repositories) with plain values.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Config files and scripts outside every tsconfig: syntax rules only.
    files: ['**/*.{mts,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  prettier,
);
