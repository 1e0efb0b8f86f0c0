import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_JWT_SECRET } from './test-app';

const ROOT = resolve(__dirname, '../..');

export interface ServiceProcess {
  child: ChildProcess;
  exited: Promise<unknown>;
}

/**
 * Builds the service into a folder of its own, so a child process runs code no other spec's build
 * can delete under it. Returns the folder; the caller removes it.
 */
export function buildServiceCopy(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const entry of ['src', 'migrations', 'nest-cli.json', 'tsconfig.json', 'package.json']) {
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true, filter: (from) => !/src\/metadata(\.tmp-\d+)?\.ts$/.test(from) });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  execFileSync('npm', ['run', '-s', 'build:sandbox'], { cwd: ROOT, stdio: 'pipe' });
  execFileSync(join(dir, 'node_modules/.bin/nest'), ['build'], { cwd: dir, stdio: 'pipe' });
  return dir;
}

/** The built service in `dir` as a child process on `port`; resolves once it listens. */
export async function runService(dir: string, port: number, env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: dir,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: TEST_JWT_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.includes('listening on')) listening();
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise((r) => child.once('exit', r));
  await Promise.race([
    ready,
    exited.then(() => {
      throw new Error(`the service exited before listening: ${stderr}`);
    }),
  ]);
  return { child, exited };
}
