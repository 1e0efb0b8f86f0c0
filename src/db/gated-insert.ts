import type { EntityManager, EntityMetadata } from 'typeorm';

/**
 * What another module's statement does first, and the condition its outcome sets on an insert: one
 * statement (so one round trip and one commit) that stores the row only when, say, an admission
 * counted it in. The guardrails give theirs; the module that owns the table writes the insert.
 */
export interface InsertGate {
  /** One data-modifying CTE, `name AS (...)`, its parameters numbered from $1. */
  cte: string;
  params: unknown[];
  /** An SQL condition on that CTE's rows under which the row is inserted. */
  condition: string;
}

/**
 * Inserts `data` (the entity's properties; undefined ones take the column defaults) into the
 * entity's table when `gate` holds (always without one), and returns the row as stored (`RETURNING
 * *`); null when the gate did not hold. The values travel as one JSON object that Postgres turns
 * into the row's types itself (json_populate_record), so an `INSERT ... SELECT` can carry them.
 */
export async function gatedInsert(
  manager: EntityManager,
  metadata: EntityMetadata,
  data: Record<string, unknown>,
  gate: InsertGate | null,
): Promise<Record<string, unknown> | null> {
  const row: Record<string, unknown> = {};
  for (const [property, value] of Object.entries(data)) {
    if (value === undefined) continue;
    const column = metadata.findColumnWithPropertyName(property);
    if (!column) throw new Error(`${metadata.tableName} has no column for ${property}`);
    row[column.databaseName] = value;
  }
  const table = `"${metadata.tableName}"`;
  const columns = Object.keys(row).map((name) => `"${name}"`);
  const params = gate?.params ?? [];
  const sql =
    `${gate ? `WITH ${gate.cte} ` : ''}INSERT INTO ${table} (${columns.join(', ')}) ` +
    `SELECT ${columns.map((name) => `v.${name}`).join(', ')} FROM json_populate_record(NULL::${table}, $${params.length + 1}::json) v ` +
    `${gate ? `WHERE ${gate.condition} ` : ''}RETURNING *`;
  const rows = await manager.query<Record<string, unknown>[]>(sql, [...params, JSON.stringify(row)]);
  return rows[0] ?? null;
}
