import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

interface Copy {
  from: string | null;
  sources: string[];
  dest: string;
}

interface Stage {
  copies: Copy[];
  runs: string[];
  /** COPY and RUN steps in order. */
  steps: (Copy | string)[];
}

/** The Dockerfile's stages, each as its COPY and RUN steps in order. */
function stages(): Stage[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split(/^FROM /m)
    .slice(1)
    .map((stage) => {
      const result: Stage = { copies: [], runs: [], steps: [] };
      for (const line of stage.split('\n').map((l) => l.trim())) {
        const copy = /^COPY\s+(--from=(\S+)\s+)?(.+)$/.exec(line);
        if (copy) {
          const parts = copy[3].split(/\s+/);
          const step = { from: copy[2] ?? null, sources: parts.slice(0, -1), dest: parts[parts.length - 1] };
          result.copies.push(step);
          result.steps.push(step);
        } else if (line.startsWith('RUN ')) {
          result.runs.push(line.slice(4));
          result.steps.push(line.slice(4));
        }
      }
      return result;
    });
}

/**
 * Replays what the build stage does to node_modules (its COPYs up to `npm ci`, `npm ci`, and its
 * `npm prune`) in a temporary directory: that node_modules is what the runtime stage copies.
 */
describe('production image', () => {
  let app: string;

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'runtime-stage-'));
    const [build] = stages();
    const ci = build.runs.find((run) => run.startsWith('npm ci'));
    if (!ci) throw new Error('the build stage has no npm ci step');
    for (const copy of build.steps) {
      if (typeof copy === 'string') break;
      for (const source of copy.sources) {
        const target = copy.dest.endsWith('/') ? join(app, copy.dest, source.split('/').pop()!) : join(app, copy.dest);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(join(ROOT, source), target, { recursive: true });
      }
    }
    const prune = build.runs.flatMap((run) => run.split('&&').map((part) => part.trim())).find((part) => part.startsWith('npm prune'));
    if (!prune) throw new Error('the build stage has no npm prune step');
    const env = { ...process.env, npm_config_prefer_offline: 'true', npm_config_loglevel: 'error' };
    for (const command of [ci, prune]) execFileSync('sh', ['-c', command], { cwd: app, env, stdio: 'pipe' });
  }, 600_000);
  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  }, 180_000);

  it('takes node_modules and dist from the build stage, and no workspace package', () => {
    const runtime = stages()[1];
    expect(runtime.runs).toEqual([]);
    expect(runtime.copies.map((c) => [c.from, ...c.sources])).toEqual([
      ['build', '/app/package.json'],
      ['build', '/app/node_modules'],
      ['build', '/app/dist'],
    ]);
  });

  it('has no sandbox package in its node_modules, neither copied nor linked', () => {
    const resolveIn = (name: string) =>
      spawnSync(process.execPath, ['-e', `process.stdout.write(require.resolve(${JSON.stringify(name)}))`], {
        cwd: app,
        env: { PATH: process.env.PATH },
        encoding: 'utf8',
      });
    expect(resolveIn('twilio').status).toBe(0);
    const sandbox = resolveIn('@samsaek/twilio-sandbox');
    expect(sandbox.status).not.toBe(0);
    expect(sandbox.stderr).toContain("Cannot find module '@samsaek/twilio-sandbox'");
    expect(existsSync(join(app, 'node_modules/@samsaek/twilio-sandbox'))).toBe(false);
  });
});
