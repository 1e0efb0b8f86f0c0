// Generates the TypeScript client in src/ from the service's openapi.yaml with @hey-api/openapi-ts,
// leaving out the operations marked x-internal.
// `--check`: generates into a temporary folder and exits 1 when the committed client differs.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@hey-api/openapi-ts';
import YAML from 'yaml';

const pkg = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const root = resolve(pkg, '../..');
export const SPEC = join(root, 'openapi.yaml');
export const SDK_DIR = join(pkg, 'src');

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Operations marked `x-internal` (Twilio's webhooks: form-encoded in, TwiML out) are documented but no client calls them. */
export function internalOperations(spec = YAML.parse(readFileSync(SPEC, 'utf8'))) {
  return Object.entries(spec.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]?.['x-internal']).map((m) => `${m.toUpperCase()} ${path}`),
  );
}

export async function generateSdk(outDir) {
  await createClient({
    input: SPEC,
    parser: { filters: { operations: { exclude: internalOperations() } } },
    output: { path: outDir, tsConfigPath: join(pkg, 'tsconfig.json') },
    plugins: [{ name: '@hey-api/client-fetch', includeInEntry: true }, '@hey-api/typescript', '@hey-api/sdk'],
    logs: { level: 'silent', file: false },
  });
}

function files(dir) {
  return readdirSync(dir)
    .flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]))
    .sort();
}

/** Relative paths that differ between two folders. */
export function compareDirs(a, b) {
  const fa = files(a).map((f) => relative(a, f));
  const fb = files(b).map((f) => relative(b, f));
  const all = [...new Set([...fa, ...fb])].sort();
  return all.filter((f) => !fa.includes(f) || !fb.includes(f) || readFileSync(join(a, f), 'utf8') !== readFileSync(join(b, f), 'utf8'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const shown = relative(root, SDK_DIR);
  if (process.argv.includes('--check')) {
    const tmp = mkdtempSync(join(tmpdir(), 'sdk-'));
    try {
      await generateSdk(tmp);
      const differ = compareDirs(SDK_DIR, tmp);
      if (differ.length) {
        process.stderr.write(
          `${shown} is out of date with openapi.yaml; run \`npm run sdk\`. Differing files:\n${differ.map((f) => `  ${f}\n`).join('')}`,
        );
        process.exitCode = 1;
      } else {
        process.stdout.write(`${shown} matches openapi.yaml\n`);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  } else {
    await generateSdk(SDK_DIR);
    process.stdout.write(`wrote ${shown}\n`);
  }
}
