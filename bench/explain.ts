import type { Client } from 'pg';
import { rows } from './callbacks';
import { probe } from './service';
import type { SqlCapture } from './sql-capture';

export interface Plan {
  key: string;
  name: string;
  sql: string;
  params: (string | null)[];
  plan?: string;
  error?: string;
}

export interface ReadProbe {
  key: string;
  name: string;
  path: string;
}

export const SQL_SOURCE =
  'captured on the wire: a second service instance talks to PostgreSQL through a recording proxy; each probe request is sent once ' +
  'and every read (a SELECT, or a WITH that writes nothing) on call_records or message_records it ran is explained with the values it bound';

/** The SQL the service runs for each probe, with its own bound values, under EXPLAIN (ANALYZE, BUFFERS). */
export async function explainCaptured(
  db: Client,
  capture: SqlCapture,
  base: string,
  headers: Record<string, string>,
  probes: ReadProbe[],
): Promise<Plan[]> {
  const plans: Plan[] = [];
  for (const item of probes) {
    capture.statements.length = 0;
    const res = await probe(`${base}/api/phone/${item.path}`, headers);
    await res.arrayBuffer();
    const seen = new Map<string, (string | null)[]>();
    for (const { sql, params } of capture.statements) {
      if (isRead(sql) && /(call_records|message_records)/.test(sql) && !seen.has(sql)) seen.set(sql, params);
    }
    if (seen.size === 0) plans.push({ key: item.key, name: item.name, sql: '', params: [], error: 'no statement captured' });
    let n = 0;
    for (const [sql, params] of seen) {
      const plan: Plan = { key: seen.size > 1 ? `${item.key}_${++n}` : item.key, name: item.name, sql, params };
      try {
        const result = rows<{ 'QUERY PLAN': string }>(await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params));
        plan.plan = result.map((r) => r['QUERY PLAN']).join('\n');
      } catch (error) {
        plan.error = error instanceof Error ? error.message : String(error);
      }
      plans.push(plan);
    }
  }
  return plans;
}

/** EXPLAIN ANALYZE runs the statement: only reads may be explained (a WITH may hold an UPDATE). */
function isRead(sql: string): boolean {
  return /^\s*SELECT/i.test(sql) || (/^\s*WITH/i.test(sql) && !/\b(INSERT|UPDATE|DELETE|MERGE)\b/i.test(sql));
}
