/**
 * What the person at the other end of a call does. A script belongs to a phone number; every call with
 * that number (outbound to it, inbound from it, or a <Dial> leg to it) plays it from the first turn, and
 * each <Gather> that listens consumes the next turn.
 */
export type PartyTurn = { speech: string; confidence: number } | { dtmf: string } | { silence: true } | { hangup: true };
/** A turn as a script gives it: a speech turn's confidence may be left to the default. */
export type PartyTurnInput = { speech: string; confidence?: number } | Exclude<PartyTurn, { speech: string }>;

export interface PartyScript {
  number: string;
  turns: PartyTurn[];
  /** How long the party talks once connected by a <Dial> (virtual seconds). */
  talkSeconds: number;
  /**
   * How long the party stays on a bridge its own call's <Dial> makes before hanging up (virtual
   * seconds after the dialed party is connected); unset: until the dialed party hangs up.
   */
  bridgeSeconds?: number;
}

/** A call's own copy of a script, with how far it got. */
export interface CallParty {
  turns: PartyTurn[];
  next: number;
  talkSeconds: number;
  bridgeSeconds?: number;
}

/** Talk time of a dialed party without a script, or whose script does not say. */
export const DEFAULT_TALK_SECONDS = 5;
/** The recognizer's confidence when a speech turn does not give one. */
export const DEFAULT_CONFIDENCE = 0.9;
const E164 = /^\+[1-9]\d{1,14}$/;
const DTMF = /^[0-9*#]+$/;

export class ScriptError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseE164(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ScriptError(`${field} is required`);
  if (!E164.test(value))
    throw new ScriptError(`${field} must be a phone number in E.164 format (e.g. +14155550123), got ${JSON.stringify(value)}`);
  return value;
}

function parseTurn(value: unknown, field: string): PartyTurn {
  if (!isObject(value))
    throw new ScriptError(`${field} must be an object such as {"speech": "..."}, {"dtmf": "1"}, {"silence": true} or {"hangup": true}`);
  const keys = Object.keys(value);
  const unknown = keys.filter((k) => !['speech', 'confidence', 'dtmf', 'silence', 'hangup'].includes(k));
  if (unknown.length) throw new ScriptError(`${field}.${unknown[0]} is not a turn field (speech, confidence, dtmf, silence, hangup)`);
  const kinds = keys.filter((k) => k !== 'confidence');
  if (kinds.length !== 1) {
    throw new ScriptError(`${field} must have exactly one of speech, dtmf, silence or hangup`);
  }
  const kind = kinds[0];
  if (kind !== 'speech' && 'confidence' in value) throw new ScriptError(`${field}.confidence is only allowed with speech`);
  switch (kind) {
    case 'speech': {
      const speech = value.speech;
      if (typeof speech !== 'string' || speech.trim() === '') throw new ScriptError(`${field}.speech must be a non-empty string`);
      const confidence = value.confidence ?? DEFAULT_CONFIDENCE;
      if (typeof confidence !== 'number' || !Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
        throw new ScriptError(`${field}.confidence must be a number between 0 and 1`);
      }
      return { speech: speech.trim(), confidence };
    }
    case 'dtmf': {
      const dtmf = value.dtmf;
      if (typeof dtmf !== 'string' || !DTMF.test(dtmf)) throw new ScriptError(`${field}.dtmf must be a string of the keys 0-9, * and #`);
      return { dtmf };
    }
    case 'silence':
    case 'hangup':
      if (value[kind] !== true) throw new ScriptError(`${field}.${kind} must be true`);
      return kind === 'silence' ? { silence: true } : { hangup: true };
    default:
      throw new ScriptError(`${field} must have exactly one of speech, dtmf, silence or hangup`);
  }
}

export function parseTurns(value: unknown, field = 'turns'): PartyTurn[] {
  if (!Array.isArray(value)) throw new ScriptError(`${field} must be an array of turns`);
  return value.map((turn, i) => parseTurn(turn, `${field}[${i}]`));
}

export function parseTalkSeconds(value: unknown, field = 'talk_seconds'): number {
  if (value === undefined) return DEFAULT_TALK_SECONDS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 14400) {
    throw new ScriptError(`${field} must be a number of seconds between 0 and 14400`);
  }
  return value;
}

/** `bridge_seconds`: absent stays undefined (the party stays until the dialed party hangs up). */
export function parseBridgeSeconds(value: unknown, field = 'bridge_seconds'): number | undefined {
  return value === undefined ? undefined : parseTalkSeconds(value, field);
}

/** `POST /sandbox/scripts` body: `{number, turns, talk_seconds?, bridge_seconds?}`. */
export function parseScript(body: unknown): PartyScript {
  if (!isObject(body)) throw new ScriptError('the body must be a JSON object {number, turns, talk_seconds?, bridge_seconds?}');
  const unknown = Object.keys(body).filter((k) => !['number', 'turns', 'talk_seconds', 'bridge_seconds'].includes(k));
  if (unknown.length) throw new ScriptError(`${unknown[0]} is not a script field (number, turns, talk_seconds, bridge_seconds)`);
  const bridgeSeconds = parseBridgeSeconds(body.bridge_seconds);
  return {
    number: parseE164(body.number, 'number'),
    turns: parseTurns(body.turns),
    talkSeconds: parseTalkSeconds(body.talk_seconds),
    ...(bridgeSeconds !== undefined ? { bridgeSeconds } : {}),
  };
}

/** How a script is shown by `GET /sandbox/scripts`. */
export function scriptView(script: PartyScript): Record<string, unknown> {
  return {
    number: script.number,
    turns: script.turns,
    talk_seconds: script.talkSeconds,
    ...(script.bridgeSeconds !== undefined ? { bridge_seconds: script.bridgeSeconds } : {}),
  };
}

export function partyOf(script: Pick<PartyScript, 'turns' | 'talkSeconds' | 'bridgeSeconds'>): CallParty {
  return {
    turns: structuredClone(script.turns),
    next: 0,
    talkSeconds: script.talkSeconds,
    ...(script.bridgeSeconds !== undefined ? { bridgeSeconds: script.bridgeSeconds } : {}),
  };
}

/** The next turn of a call's party; a script that ran out hangs up. */
export function nextTurn(party: CallParty): PartyTurn {
  const turn = party.turns[party.next];
  party.next++;
  return turn ?? { hangup: true };
}
