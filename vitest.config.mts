import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources in tests (the `@samsaek/source` export
// condition), so the suite needs no build step; the rest are Vite's default server conditions.
const conditions = ['@samsaek/source', 'node', 'development|production'];

// The API contract as clients and operators see it: the spec, the generated SDK, Swagger UI in a
// browser, the production image and the boundary rules.
const CONTRACT = [
  'test/openapi/**/*.e2e-spec.ts',
  'test/sdk/**/*.e2e-spec.ts',
  'test/browser/**/*.e2e-spec.ts',
  'test/image/**/*.e2e-spec.ts',
  'test/tooling/**/*.e2e-spec.ts',
];

const SWAGGER_METADATA = ['test/support/global-setup.ts'];

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    globals: true,
    root: './',
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    // Tiers: `npm run test:unit` runs one in seconds; `npm test` runs them all.
    projects: [
      // unit specs build no OpenAPI document, so they skip generating the swagger plugin's metadata
      { extends: true, test: { name: 'unit', include: ['src/**/*.spec.ts', 'packages/*/src/**/*.spec.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.e2e-spec.ts'], exclude: CONTRACT, globalSetup: SWAGGER_METADATA } },
      { extends: true, test: { name: 'contract', include: CONTRACT, globalSetup: SWAGGER_METADATA } },
      {
        extends: true,
        test: { name: 'sandbox', include: ['packages/twilio-sandbox/test/**/*.e2e-spec.ts'], globalSetup: SWAGGER_METADATA },
      },
    ],
  },
  plugins: [
    swc.vite({
      module: { type: 'es6' },
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: 'es2022',
      },
    }),
  ],
});
