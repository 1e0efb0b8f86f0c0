/**
 * Text templates with `{{name}}` placeholders: a campaign's content filled per recipient, an
 * assistant's first message filled from the call's metadata.
 */
const VARIABLE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** The variables a template uses, in order of first use. */
export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(VARIABLE)].map((m) => m[1]))];
}

export type Escape = (value: string) => string;

export const escapeXml: Escape = (value) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** `template` with every `{{name}}` replaced by the recipient's value, escaped; the missing names otherwise. */
export function renderTemplate(
  template: string,
  variables: Record<string, string>,
  escape: Escape = (v) => v,
): string | { missing: string[] } {
  const missing = templateVariables(template).filter((name) => !Object.prototype.hasOwnProperty.call(variables, name));
  if (missing.length) return { missing };
  return template.replace(VARIABLE, (_, name: string) => escape(variables[name]));
}
