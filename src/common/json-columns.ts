/** T as JSON.stringify writes it: every Date becomes its ISO 8601 string. */
export type Json<T> = T extends Date ? string : T extends (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

/**
 * A timestamptz column as the API shows a Date (Date.toISOString: UTC, milliseconds, `Z`), formatted
 * by the database. The driver's Date drops the microseconds the same way (it truncates), so a row
 * read with this is byte for byte what the Date would have become in JSON.
 */
export function isoMillis(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * A select list that names each column as the API does, in the order given: `{ from: 'from_number' }`
 * gives `from_number AS "from"`. Rows then go to the answer as the driver returns them.
 */
export function selectAs(columns: Record<string, string>): string {
  return Object.entries(columns)
    .map(([name, sql]) => `${sql} AS "${name}"`)
    .join(', ');
}
