import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const root = resolve(__dirname, '../..');
const pkgDir = join(root, 'packages/sdk');

/** operationIds of openapi.yaml but the x-internal ones (Twilio's webhooks): the functions the SDK must export. */
function operationIds(): string[] {
  const spec = parse(readFileSync(join(root, 'openapi.yaml'), 'utf8')) as {
    paths: Record<string, Record<string, { operationId?: string; 'x-internal'?: boolean }>>;
  };
  return Object.values(spec.paths)
    .flatMap((item) => Object.values(item).map((op) => (op['x-internal'] ? undefined : op.operationId)))
    .filter((id): id is string => typeof id === 'string')
    .sort();
}

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A consumer's view of @samsaek/phone-sdk: `npm pack` (which builds it), install the tarball into an
 * empty project, then import, require and type-check it there, with nothing from this repository
 * on the resolution path.
 */
describe('@samsaek/phone-sdk as a packed package', () => {
  let tmp: string;
  let consumer: string;
  let packed: { files: { path: string }[] };

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sdk-pack-'));
    const out = run('npm', ['pack', '--json', '--pack-destination', tmp], pkgDir);
    [packed] = JSON.parse(out.slice(out.indexOf('['))) as { files: { path: string }[]; filename: string }[];
    const tarball = join(tmp, (packed as unknown as { filename: string }).filename);
    consumer = join(tmp, 'consumer');
    const installed = join(consumer, 'node_modules/@samsaek/phone-sdk');
    mkdirSync(installed, { recursive: true });
    run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'], tmp);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  }, 180_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('ships built JavaScript with declarations, the README and the example, but not the generator', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'examples/quickstart.ts',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/client/index.js',
        'dist/client/index.d.ts',
        'dist/sdk.gen.js',
        'dist/types.gen.d.ts',
      ]),
    );
    expect(files.filter((f) => f.startsWith('scripts/'))).toEqual([]);
  });

  it('exports one function per operation of openapi.yaml, plus the client, to import() and to require()', () => {
    const expected = { functions: operationIds(), client: ['createClient', 'createConfig'] };
    const probe = `
      const names = (m, keys) => keys.filter((k) => typeof m[k] === 'function').sort();
      const report = (sdk, client) => JSON.stringify({
        functions: names(sdk, ${JSON.stringify(expected.functions)}),
        client: names(client, ['createClient', 'createConfig']),
        defaultClient: typeof sdk.client?.setConfig,
      });`;
    const esm = run(
      'node',
      [
        '--input-type=module',
        '-e',
        `${probe}
      const sdk = await import('@samsaek/phone-sdk'); const client = await import('@samsaek/phone-sdk/client');
      console.log(report(sdk, client));`,
      ],
      consumer,
    );
    expect(JSON.parse(esm)).toEqual({ ...expected, defaultClient: 'function' });

    const cjs = run(
      'node',
      [
        '--input-type=commonjs',
        '--no-warnings',
        '-e',
        `${probe}
      console.log(report(require('@samsaek/phone-sdk'), require('@samsaek/phone-sdk/client')));`,
      ],
      consumer,
    );
    expect(JSON.parse(cjs)).toEqual({ ...expected, defaultClient: 'function' });
  });

  it("type-checks the README's quickstart against the installed declarations, and rejects misuse", () => {
    cpSync(join(pkgDir, 'examples/quickstart.ts'), join(consumer, 'quickstart.ts'));
    writeFileSync(
      join(consumer, 'misuse.ts'),
      [
        "import { placeCall, type CallDto, type ErrorResponseDto } from '@samsaek/phone-sdk';",
        "import { createClient } from '@samsaek/phone-sdk/client';",
        "const client = createClient({ baseUrl: 'http://localhost:3000' });",
        '// @ts-expect-error `to` is required',
        "void placeCall({ client, body: { message: 'no recipient' } });",
        '// @ts-expect-error the status is a closed union',
        "export const status: CallDto['status'] = 'on-hold';",
        "export const code: ErrorResponseDto['code'] = 'not_found';",
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2022',
          lib: ['ES2022'],
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        include: ['*.ts'],
      }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    let output: string;
    try {
      output = run('node', [tsc, '-p', consumer], consumer);
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(output).toBe('');
  });

  it('has a README that quotes the example verbatim', () => {
    const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
    const example = readFileSync(join(pkgDir, 'examples/quickstart.ts'), 'utf8');
    expect(readme).toContain('```ts\n' + example + '```\n');
  });
});
