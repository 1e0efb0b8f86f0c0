import { defineConfig } from 'vitest/config';
import base from '../vitest.config.mts';

/** `npm run bench`: the performance targets, measured outside the test suite. */
export default defineConfig({
  ...base,
  test: { ...base.test, include: ['bench/**/*.bench-spec.ts'], testTimeout: 300_000, hookTimeout: 300_000 },
});
