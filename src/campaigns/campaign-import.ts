import { metadataProblems, METADATA_MAX_KEYS } from '../common/metadata';
import { normalizeE164 } from '../common/phone-number';
import { CallingWindow, nextOpening } from './calling-window';
import { timeZonesOf } from './phone-time-zones';
import { Escape, renderTemplate } from '../common/template';

/** Why an imported recipient is never dialed. */
export const SKIP_REASONS = [
  'invalid_number',
  'duplicate',
  'opted_out',
  'missing_variable',
  'invalid_variables',
  'invalid_metadata',
  'unknown_time_zone',
  'window_never_open',
  'content_too_long',
  'campaign_canceled',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Metadata keys the campaign adds to every call or message it places. */
export const CAMPAIGN_METADATA_KEYS = ['campaign_id', 'campaign_attempt_id'] as const;
const RECIPIENT_METADATA_MAX_KEYS = METADATA_MAX_KEYS - CAMPAIGN_METADATA_KEYS.length;

/** One recipient as imported: to be dialed, or skipped with the reason. */
export interface ImportedRecipient {
  position: number;
  /** The number as given (normalized to E.164 when valid). */
  to: string;
  variables: Record<string, string>;
  metadata: Record<string, string>;
  timeZones: string[];
  /** The rendered content (message, TwiML, audio URL or SMS body); null when skipped. */
  content: string | null;
  skipReason: SkipReason | null;
  skipMessage: string | null;
}

export interface ImportRules {
  template: string;
  escape: Escape;
  maxContentLength: number;
  window: CallingWindow;
  /** Numbers that opted out, among those imported. */
  optedOut: Set<string>;
  now: Date;
  /** The variables also go on the recipient's calls as metadata (an assistant's campaign): they must fit its rules. */
  variablesInMetadata?: boolean;
}

/** The numbers a raw recipients list names in valid E.164 form (to look up opt-outs in one query). */
export function validNumbers(raw: unknown[]): string[] {
  const numbers = new Set<string>();
  for (const row of raw) {
    const to = normalizeE164(isObject(row) ? row.to : undefined);
    if (to) numbers.add(to);
  }
  return [...numbers];
}

/** Validates every row on its own: a bad row is skipped with a reason, never fails the others. */
export function importRecipients(raw: unknown[], rules: ImportRules): ImportedRecipient[] {
  const seen = new Map<string, number>();
  const openings = new Map<string, boolean>();
  return raw.map((row, position) => {
    const given = isObject(row) ? row : {};
    const asGiven = typeof given.to === 'string' ? given.to.slice(0, 32) : '';
    const base: ImportedRecipient = {
      position,
      to: asGiven,
      variables: {},
      metadata: {},
      timeZones: [],
      content: null,
      skipReason: null,
      skipMessage: null,
    };
    const skip = (reason: SkipReason, message: string): ImportedRecipient => ({ ...base, skipReason: reason, skipMessage: message });
    if (!isObject(row)) return skip('invalid_number', `row ${position} must be an object with a "to" number`);
    const to = normalizeE164(row.to);
    if (!to) return skip('invalid_number', `${asGiven || 'to'} is not a valid E.164 phone number`);
    base.to = to;
    const first = seen.get(to);
    if (first !== undefined) return skip('duplicate', `${to} is already recipient ${first}`);
    seen.set(to, position);
    const variables = stringMap(row.variables);
    if (variables === null) return skip('invalid_variables', 'variables must be an object of string or number values');
    base.variables = variables;
    if (row.metadata !== undefined) {
      const problems = metadataProblems(row.metadata, 'body');
      const metadata = row.metadata as Record<string, string>;
      if (problems.length) return skip('invalid_metadata', problems[0].message);
      if (Object.keys(metadata).length > RECIPIENT_METADATA_MAX_KEYS)
        return skip('invalid_metadata', `metadata may have at most ${RECIPIENT_METADATA_MAX_KEYS} keys on a campaign recipient`);
      const reserved = CAMPAIGN_METADATA_KEYS.find((key) => key in metadata);
      if (reserved) return skip('invalid_metadata', `metadata key ${reserved} is set by the campaign`);
      base.metadata = { ...metadata };
    }
    if (rules.variablesInMetadata) {
      const problem = callMetadataProblem(variables, base.metadata);
      if (problem) return skip('invalid_variables', problem);
    }
    if (rules.optedOut.has(to)) return skip('opted_out', `${to} has opted out of messages from this service`);
    const content = renderTemplate(rules.template, variables, rules.escape);
    if (typeof content !== 'string') return skip('missing_variable', `variables lack ${content.missing.join(', ')}`);
    if (content.length > rules.maxContentLength)
      return skip('content_too_long', `the content for this recipient is ${content.length} characters, over ${rules.maxContentLength}`);
    base.content = content;
    const zones = timeZonesOf(to);
    if (!zones.length) return skip('unknown_time_zone', `the time zone of ${to} is not known`);
    base.timeZones = zones;
    const key = zones.join(',');
    let open = openings.get(key);
    if (open === undefined) {
      open = nextOpening(rules.window, zones, rules.now) !== null;
      openings.set(key, open);
    }
    if (!open) return skip('window_never_open', `the calling window never holds in all of ${to}'s time zones (${zones.length} zones)`);
    return base;
  });
}

/** Why a recipient's variables cannot join its metadata on its calls; null when they can. */
function callMetadataProblem(variables: Record<string, string>, metadata: Record<string, string>): string | null {
  const shared = Object.keys(variables).find((key) => key in metadata);
  if (shared) return `variable ${shared} is also a metadata key (variables join the call's metadata)`;
  const reserved = CAMPAIGN_METADATA_KEYS.find((key) => key in variables);
  if (reserved) return `variable ${reserved} is set by the campaign`;
  const merged = { ...variables, ...metadata };
  if (Object.keys(merged).length > RECIPIENT_METADATA_MAX_KEYS)
    return `variables and metadata together may have at most ${RECIPIENT_METADATA_MAX_KEYS} keys (they join the call's metadata)`;
  const problems = metadataProblems(merged, 'body');
  return problems.length ? problems[0].message.replace(/^metadata/, 'variables') : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function stringMap(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) return null;
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string') out[key] = item;
    else if (typeof item === 'number' && Number.isFinite(item)) out[key] = String(item);
    else return null;
  }
  return out;
}
