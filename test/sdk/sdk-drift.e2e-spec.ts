import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM script without type declarations
import { SDK_DIR, compareDirs, generateSdk } from '../../packages/sdk/scripts/generate.mjs';

describe('packages/sdk/src', () => {
  it(
    'is what @hey-api/openapi-ts generates from the committed openapi.yaml (run `npm run sdk` when not)',
    { timeout: 60_000 },
    async () => {
      const tmp = mkdtempSync(join(tmpdir(), 'sdk-'));
      try {
        await generateSdk(tmp);
        expect(compareDirs(SDK_DIR, tmp)).toEqual([]);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );
});
