import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { CALLS_SQL, MESSAGES_SQL, RESET_SQL } from './seed-sql';

/** Anything with pg's `query(text, values)`: a pg Client or an embedded PGlite. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export const ROOT = join(__dirname, '..');
const CHUNK = 50_000;

/** Builds the service (dist/; BENCH_BUILD=false keeps an existing build), then applies its migrations to the target database. */
export function migrate(env: Record<string, string | undefined>): void {
  if (!existsSync(join(ROOT, 'dist/src/main.js')) || process.env.BENCH_BUILD !== 'false') {
    run('npm', ['run', '-s', 'build']);
  }
  run('node', ['dist/src/bin/migrate.js'], env);
}

function run(command: string, args: string[], env: Record<string, string | undefined> = process.env): void {
  const result = spawnSync(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`);
}

function bar(label: string, done: number, total: number, startedAt: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const seconds = (Date.now() - startedAt) / 1000;
  const rate = Math.round(done / Math.max(seconds, 0.001));
  process.stderr.write(
    `\r${label.padEnd(9)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${rate.toLocaleString('en-US')} rows/s ${seconds.toFixed(0)} s   `,
  );
  if (done === total) process.stderr.write('\n');
}

async function fill(db: Queryable, label: string, sql: string, total: number): Promise<void> {
  const startedAt = Date.now();
  bar(label, 0, total, startedAt);
  for (let first = 1; first <= total; first += CHUNK) {
    const last = Math.min(total, first + CHUNK - 1);
    await db.query(sql, [first, last, total]);
    bar(label, last, total, startedAt);
  }
}

/**
 * Empties the tables the service writes calls and messages to and fills them with `calls` and
 * `messages` rows. Their secondary indexes are dropped for the load and rebuilt from their own
 * definitions afterwards (even when the load fails), which is several times faster than
 * maintaining eight indexes row by row.
 */
export async function seed(db: Queryable, calls: number, messages: number): Promise<void> {
  await db.query(RESET_SQL);
  const indexes = (
    (await db.query(
      `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
       JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid
       WHERE i.schemaname = current_schema() AND i.tablename IN ('call_records', 'message_records') AND NOT x.indisprimary`,
    )) as { rows: { name: string; definition: string }[] }
  ).rows;
  for (const index of indexes) await db.query(`DROP INDEX "${index.name}"`);
  try {
    await fill(db, 'calls', CALLS_SQL, calls);
    await fill(db, 'messages', MESSAGES_SQL, messages);
  } finally {
    const startedAt = Date.now();
    for (const index of indexes) await db.query(index.definition);
    process.stderr.write(`rebuilt ${indexes.length} indexes in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
  }
  await db.query('ANALYZE call_records');
  await db.query('ANALYZE message_records');
}

export function count(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('bench:seed needs DATABASE_URL (a real PostgreSQL database the benchmark may empty)');
  const calls = count('BENCH_CALLS', 1_000_000);
  const messages = count('BENCH_MESSAGES', 1_000_000);
  migrate({ DATABASE_URL: url });
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const startedAt = Date.now();
    await seed(client, calls, messages);
    process.stderr.write(`seeded ${calls} calls and ${messages} messages in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
