import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../support/test-app';

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'dist/src/main.js');

/** Runs the built service until it exits; kills it (and fails) past limitMs. */
function boot(env: Record<string, string>, limitMs = 20_000): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, [MAIN], {
      cwd: mkdtempSync(join(tmpdir(), 'boot-')),
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', LOG_LEVEL: 'error', ...env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, out, ms: Date.now() - started });
    });
  });
}

const lastLine = (out: string) => out.trim().split('\n').pop() ?? '';

/** What an operator sees when the service cannot start: one line naming the setting, exit 1, soon. */
describe('boot failures', () => {
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'ignore' });
    busyPort = await freePort();
    busy = createServer();
    await new Promise<void>((r) => busy.listen(busyPort, '127.0.0.1', () => r()));
  }, 180_000);
  afterAll(() => new Promise<void>((r) => (busy ? busy.close(() => r()) : r())));

  it('a database that cannot be reached names DATABASE_URL with the password masked', async () => {
    const closed = await freePort();
    const r = await boot({
      PORT: String(await freePort()),
      DATABASE_URL: `postgres://app:s3cret@127.0.0.1:${closed}/app`,
      DB_CONNECT_WAIT_SECONDS: '2',
    });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(15_000);
    expect(lastLine(r.out)).toMatch(
      new RegExp(`^Cannot connect to the database at DATABASE_URL=postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${closed}/app: `),
    );
    expect(r.out).not.toContain('s3cret');
    expect(r.out).not.toMatch(/Retrying \(\d+\)/);
  });

  it('a port in use names PORT', async () => {
    const r = await boot({ PORT: String(busyPort), PGLITE_DATA_DIR: 'memory://' });
    expect(r.code).toBe(1);
    expect(lastLine(r.out)).toBe(`Cannot listen on 127.0.0.1:${busyPort}: the port is already in use; set PORT (and HOST) to a free one`);
  });

  it('a sandbox port in use names SANDBOX_PORT', async () => {
    const r = await boot({ PORT: String(await freePort()), SANDBOX_PORT: String(busyPort), PGLITE_DATA_DIR: 'memory://' });
    expect(r.code).toBe(1);
    expect(lastLine(r.out)).toMatch(/set SANDBOX_PORT to a free one/);
  });

  it('a PGLITE_DATA_DIR that is a file names PGLITE_DATA_DIR', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'boot-file-')), 'data');
    writeFileSync(file, 'not a folder');
    const r = await boot({ PORT: String(await freePort()), PGLITE_DATA_DIR: file });
    expect(r.code).toBe(1);
    expect(lastLine(r.out)).toBe(
      `PGLITE_DATA_DIR=${file} cannot hold the embedded database: it is not a folder; point it at a folder (or set DATABASE_URL)`,
    );
  });
});
