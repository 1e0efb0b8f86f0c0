/** A constant as an SQL string literal (for statement text built once from the code's own constants). */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `(a, b, c)` of string literals, for `x IN ...`. */
export function sqlList(values: readonly string[]): string {
  return `(${values.map(sqlString).join(', ')})`;
}

/** `CASE expr WHEN 'a' THEN 0 ... END`: a lookup table as an expression (NULL for anything else). */
export function sqlLookup(expr: string, table: Readonly<Record<string, number>>): string {
  const arms = Object.entries(table).map(([key, value]) => `WHEN ${sqlString(key)} THEN ${value}`);
  return `(CASE ${expr} ${arms.join(' ')} END)`;
}
