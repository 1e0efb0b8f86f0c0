import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { satisfies, subset } from 'semver';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('a fresh install and the production image', () => {
  it('installs on the oldest supported Node.js with no engine warning', () => {
    const supported = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(supported).toBe('>=20.19');
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string; engines?: { node?: string } }> };
    const refusing = Object.entries(lock.packages)
      .filter(([, p]) => typeof p.engines?.node === 'string' && !subset(supported, p.engines.node) && !satisfies('20.19.0', p.engines.node))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${p.version} wants ${p.engines!.node}`);
    expect(refusing).toEqual([]);
  });

  it('builds on a pinned Node.js LTS image', () => {
    const images = [...read('Dockerfile').matchAll(/^ARG NODE_IMAGE=(\S+)$/gm)].map((m) => m[1]);
    expect(images).toHaveLength(1);
    const version = /^node:(\d+)\.(\d+)\.(\d+)-/.exec(images[0]);
    expect(version).not.toBeNull();
    expect(Number(version![1]) % 2).toBe(0); // LTS lines are the even ones
    expect(Number(version![1])).toBeGreaterThanOrEqual(24);
    expect(read('Dockerfile').match(/^FROM .*/gm)).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE}']);
  });

  it('keeps secrets, local data and build output out of the Docker build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env', '.env.*', '!.env.example', 'node_modules', 'dist', 'data', '.git']) expect(ignored).toContain(entry);
  });

  it('compose requires POSTGRES_PASSWORD and binds the service to localhost by default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    cpSync(join(ROOT, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
    cpSync(join(ROOT, 'Dockerfile'), join(dir, 'Dockerfile'));
    cpSync(join(ROOT, '.env.example'), join(dir, '.env.production'));
    const compose = (env: Record<string, string>) =>
      spawnSync('docker-compose', ['config'], { cwd: dir, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    const probe = compose({ POSTGRES_PASSWORD: 'x' });
    if (probe.error) {
      // no docker-compose on this machine: read the file instead
      const text = read('docker-compose.yml');
      expect(text).toContain('${POSTGRES_PASSWORD:?');
      expect(text).not.toMatch(/POSTGRES_PASSWORD:-/);
      expect(text).toContain("'${BIND_ADDRESS:-127.0.0.1}:8000:8000'");
      return;
    }
    const missing = compose({});
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('POSTGRES_PASSWORD');

    // compose v1 prints "ip:host:container/tcp", v2 an object with host_ip
    const hostIp = (stdout: string) => {
      const [port] = (parse(stdout) as { services: Record<string, { ports: (string | { host_ip?: string })[] }> }).services['phone-service']
        .ports;
      return typeof port === 'string' ? port.split(':')[0] : (port.host_ip ?? '0.0.0.0');
    };
    expect(probe.status).toBe(0);
    expect(hostIp(probe.stdout)).toBe('127.0.0.1');
    expect(hostIp(compose({ POSTGRES_PASSWORD: 'x', BIND_ADDRESS: '0.0.0.0' }).stdout)).toBe('0.0.0.0');
  });

  it('npm start starts without rebuilding when nothing changed', () => {
    const first = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(first.status).toBe(0);
    const started = Date.now();
    const second = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(second.status).toBe(0);
    expect(second.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(5000);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe('node scripts/build-if-stale.mjs && node dist/src/main.js');
    expect(scripts.dev).toContain('--watch');
  }, 240_000);
});
