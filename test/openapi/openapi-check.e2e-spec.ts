import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

async function exec(cwd: string, file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: { ...process.env, NODE_ENV: 'test' }, maxBuffer: 10_000_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * `npm run openapi:check` on a copy of the project: passes on the committed openapi.yaml, and fails
 * naming the change once a DTO gains a field that openapi.yaml does not have.
 */
describe('npm run openapi:check', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'openapi-check-'));
    for (const entry of ['src', 'migrations', 'nest-cli.json', 'tsconfig.json', 'package.json', 'openapi.yaml']) {
      cpSync(join(ROOT, entry), join(dir, entry), { recursive: true, filter: (from) => !/src\/metadata(\.tmp-\d+)?\.ts$/.test(from) });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    // The service's types and its sandbox mode need the built sandbox package, as `npm run build` makes it.
    execFileSync('npm', ['run', '-s', 'build:sandbox'], { cwd: ROOT, stdio: 'pipe' });
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function check(): Promise<{ code: number; stdout: string; stderr: string }> {
    const build = await exec(dir, join(dir, 'node_modules/.bin/nest'), ['build']);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    return exec(dir, process.execPath, ['dist/src/bin/openapi.js', '--check']);
  }

  it('passes on the committed openapi.yaml and fails after a DTO change that was not regenerated', { timeout: 240_000 }, async () => {
    const clean = await check();
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('is up to date');

    const dto = join(dir, 'src/common/error-response.dto.ts');
    const source = readFileSync(dto, 'utf8');
    writeFileSync(
      dto,
      source.replace(/\n}\s*$/, '\n  /** A field added without regenerating openapi.yaml. @example "x" */\n  drift_probe?: string;\n}\n'),
    );
    const drifted = await check();
    expect(drifted.code).toBe(1);
    expect(drifted.stderr).toContain('is out of date; run `npm run openapi`');
    expect(drifted.stderr).toContain('+ /components/schemas/ErrorResponseDto/properties/drift_probe');
  });
});
