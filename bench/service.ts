import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { openSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './seed';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ). */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** A process the benchmark started (the service or the floor), its output going to a log file. */
export class Child {
  private constructor(
    readonly name: string,
    private readonly process: ChildProcess,
    readonly logFile: string,
  ) {}

  static start(name: string, command: string, args: string[], env: Record<string, string>, logFile: string): Child {
    const log = openSync(logFile, 'w');
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
    return new Child(name, child, logFile);
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Resident set size in MiB, from /proc (Linux). */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return Math.round((kib / 1024) * 10) / 10;
  }

  /** CPU time (user + system, ms) used so far by the process and its descendants (see cpuMsOf). */
  cpuMs(): number {
    return cpuMsOf(this.pid);
  }

  /** The same, split into user and kernel time (see cpuTimesOf). */
  cpuTimes(): { userMs: number; systemMs: number } {
    return cpuTimesOf(this.pid);
  }

  /** Polls `url` until it answers (2xx unless `anyStatus`); fails with the end of the log when the process exits first. */
  async waitReady(url: string, timeoutMs = 120_000, anyStatus = false): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.exited) break;
      try {
        const res = await fetch(url);
        if (res.ok || anyStatus) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const tail = readFileSync(this.logFile, 'utf8').split('\n').slice(-20).join('\n');
    throw new Error(`${this.name} did not become ready at ${url}:\n${tail}`);
  }

  private get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * CPU time (user + system, ms) used so far by process `pid` and its descendants (tsx runs the
 * script in a child), from /proc (Linux); a phase's difference divided by its requests is a cost
 * per request that does not depend on how loaded the machine is.
 */
export function cpuMsOf(pid: number): number {
  const { userMs, systemMs } = cpuTimesOf(pid);
  return userMs + systemMs;
}

/** CPU time used so far by the process and its descendants, split into user and kernel (system) milliseconds. */
export function cpuTimesOf(pid: number): { userMs: number; systemMs: number } {
  const ticks = (id: number): [number, number] => {
    const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
    // fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const sum: [number, number] = [Number(fields[11]), Number(fields[12])];
    for (const task of readdirSync(`/proc/${id}/task`)) {
      const children = readFileSync(`/proc/${id}/task/${task}/children`, 'utf8').trim();
      for (const child of children ? children.split(' ') : []) {
        try {
          const [user, system] = ticks(Number(child));
          sum[0] += user;
          sum[1] += system;
        } catch {
          // exited meanwhile
        }
      }
    }
    return sum;
  };
  const [user, system] = ticks(pid);
  return { userMs: (user * 1000) / CLOCK_TICKS, systemMs: (system * 1000) / CLOCK_TICKS };
}

export const TSX = join(ROOT, 'node_modules/.bin/tsx');

/**
 * One GET, retried once when the connection fails: between phases a kept-alive connection may be
 * closed by the server just as it is reused, which says nothing about the service.
 */
export async function probe(url: string, headers: Record<string, string>): Promise<Response> {
  try {
    return await fetch(url, { headers });
  } catch {
    return fetch(url, { headers });
  }
}
