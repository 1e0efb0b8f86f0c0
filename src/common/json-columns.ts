/** T as JSON.stringify writes it: every Date becomes its ISO 8601 string. */
export type Json<T> = T extends Date ? string : T extends (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

declare const JSON_OF: unique symbol;

/**
 * The JSON text of a T, exactly as JSON.stringify would write it (no spaces, keys in order), for
 * text the database wrote: it is sent as it is, never parsed and stringified again in between.
 */
export type JsonText<T> = string & { readonly [JSON_OF]: T };

/** The value a JsonText stands for (for the few callers that need the object itself). */
export function parseJsonText<T>(text: JsonText<T>): Json<T> {
  return JSON.parse(text) as Json<T>;
}

/**
 * A timestamptz column as the API shows a Date (Date.toISOString: UTC, milliseconds, `Z`), formatted
 * by the database. The driver's Date drops the microseconds the same way (it truncates), so a row
 * read with this is byte for byte what the Date would have become in JSON.
 */
export function isoMillis(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * A jsonb object of string values (metadata) as `json` in JSON.stringify's compact form: jsonb's
 * own text puts a space after every `:` and `,`. Keys keep jsonb's order, which is the order a
 * client reading the jsonb value gets them in.
 */
export function compactStringMap(column: string): string {
  return `CASE WHEN ${column} = '{}'::jsonb THEN '{}'::json ELSE (
    SELECT ('{' || string_agg(to_json(e.key)::text || ':' || to_json(e.value)::text, ',' ORDER BY e.n) || '}')::json
    FROM jsonb_each_text(${column}) WITH ORDINALITY AS e(key, value, n)) END`;
}

/** A jsonb array of strings (media URLs) as `json` in JSON.stringify's compact form (see compactStringMap). */
export function compactStringArray(column: string): string {
  return `CASE WHEN ${column} = '[]'::jsonb THEN '[]'::json ELSE (
    SELECT ('[' || string_agg(to_json(e.value)::text, ',' ORDER BY e.n) || ']')::json
    FROM jsonb_array_elements_text(${column}) WITH ORDINALITY AS e(value, n)) END`;
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

/**
 * The same columns as one `json` object in JSON.stringify's compact form (row_to_json writes no
 * spaces), for answers whose text the database writes: `{ from: 'from_number' }` gives
 * `{"from":"+1415..."}`. Numeric columns must be cast to text where the API shows them as strings,
 * and jsonb columns made compact (compactStringMap), as row_to_json writes jsonb with spaces.
 */
export function jsonObjectOf(columns: Record<string, string>): string {
  return `(SELECT row_to_json(o) FROM (SELECT ${selectAs(columns)}) AS o)`;
}
