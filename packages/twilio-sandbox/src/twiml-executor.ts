import { XMLParser } from 'fast-xml-parser';
import type { PartyTurn } from './party-scripts';
import type { DialOutcome, ExecutedVerb, GatherInput } from './sandbox-state';

type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: true,
  parseTagValue: false,
  parseAttributeValue: false,
});

export interface TwimlElement {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: TwimlElement[];
}

function toElement(node: XmlNode): TwimlElement | null {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (!name || name === '#text' || name.startsWith('?')) return null;
  const content = (node[name] as XmlNode[]) ?? [];
  const children = content.map(toElement).filter((c): c is TwimlElement => c !== null);
  const text = content
    .filter((c) => '#text' in c)
    .map((c) => String(c['#text']))
    .join(' ')
    .trim();
  return { name, attributes: node[':@'] ?? {}, text, children };
}

/** The verbs inside <Response>; throws on a document Twilio would reject (error 12100). */
export function parseTwiml(xml: string): TwimlElement[] {
  const trimmed = xml.trim();
  if (trimmed === '') return [];
  let nodes: XmlNode[];
  try {
    nodes = parser.parse(trimmed) as XmlNode[];
  } catch (err) {
    throw new TwimlError(`Document parse failure: ${(err as Error).message}`);
  }
  const response = nodes.map(toElement).find((e) => e?.name === 'Response');
  if (!response) throw new TwimlError('Document parse failure: no <Response> element');
  return response.children;
}

export class TwimlError extends Error {
  readonly code = 12100;
}

/** Talk-time model: speech at 150 words per minute, a <Play> takes a fixed few seconds. */
export const WORDS_PER_MINUTE = 150;
export const PLAY_SECONDS = 5;
const DEFAULT_RECORD_SECONDS = 10;
/** Documents in a row that take no time (a <Redirect> loop) before the run gives up. */
const MAX_DOCUMENTS = 10;
/** Twilio ends a call after 4 hours. */
const MAX_CALL_SECONDS = 4 * 3600;

function loops(attributes: Record<string, string>): number {
  const n = Number(attributes.loop ?? 1);
  return Number.isInteger(n) && n > 0 ? n : n === 0 ? 10 : 1;
}

export function sayingSeconds(text: string): number {
  const words = text.split(/\s+/).filter(Boolean).length;
  return (words * 60) / WORDS_PER_MINUTE;
}

export interface RecordOutcome {
  recordingSid: string;
  recordingUrl: string;
}

/** Thrown by the hooks when the call stopped running this document (redirected, hung up, reset). */
export class Interrupted extends Error {
  constructor() {
    super('the call left this document');
  }
}

/** What the other party answers to a <Gather>: a turn of its script, or nothing (nobody scripted). */
export type HeardTurn = PartyTurn | null;

export interface DialResult {
  outcome: DialOutcome;
  /** Virtual seconds the <Dial> kept the caller (ringing, whisper, talk). */
  seconds: number;
  /** The caller hung up during the bridge: the action is still requested, its answer ignored, and the call ends. */
  callerHungUp?: boolean;
}

export interface VoiceTwimlHooks {
  /** Fetches the next document (Redirect, Record/Gather/Dial action) from an absolute URL; null when the request failed. */
  fetch(kind: string, url: string, method: string, extra: Record<string, string>): Promise<string | null>;
  /** A <Record> finished `seconds` into the call after lasting `duration` seconds. */
  record(element: TwimlElement, startsAt: number, duration: number): RecordOutcome;
  /** Waits until the call is `seconds` into this run (virtual time); throws Interrupted when it left the run. */
  reach?(seconds: number): Promise<void>;
  /** The other party's next turn when a <Gather> listens. */
  listen?(): HeardTurn;
  /** Connects a <Dial> that starts `seconds` into this run. */
  dial?(element: TwimlElement, seconds: number): Promise<DialResult>;
}

export interface VoiceRun {
  executed: ExecutedVerb[];
  seconds: number;
  hangup: boolean;
  rejected: boolean;
  /** The other party hung up (a script's hangup turn). */
  farEndHangup: boolean;
  /** The call left the run (redirect, API hang-up, reset); what it did so far stays in `executed`. */
  interrupted: boolean;
}

export interface VoiceRunOptions {
  /** Where the document came from: relative action URLs and a <Gather> without action resolve against it. */
  documentUrl?: string | null;
  /** The verbs are appended here as they run (default: a new array). */
  executed?: ExecutedVerb[];
}

/** Runs a voice document to its end, following Redirect and action URLs, and reports the talk time. */
export async function executeVoiceTwiml(xml: string, hooks: VoiceTwimlHooks, options: VoiceRunOptions = {}): Promise<VoiceRun> {
  const run: VoiceRun = {
    executed: options.executed ?? [],
    seconds: 0,
    hangup: false,
    rejected: false,
    farEndHangup: false,
    interrupted: false,
  };
  const state: RunState = { run, hooks, documentUrl: options.documentUrl ?? null };
  let document: string | null = xml;
  try {
    // a conversation may go through any number of documents as long as time passes in them
    let idleDocuments = 0;
    let lastSeconds = -1;
    while (document !== null && idleDocuments < MAX_DOCUMENTS && run.seconds < MAX_CALL_SECONDS) {
      idleDocuments = run.seconds > lastSeconds ? 1 : idleDocuments + 1;
      lastSeconds = run.seconds;
      let verbs: TwimlElement[];
      try {
        verbs = parseTwiml(document);
      } catch (err) {
        run.executed.push({ verb: 'Error', seconds: 0, text: (err as Error).message, attributes: { code: '12100' } });
        run.hangup = true;
        break;
      }
      document = null;
      for (const verb of verbs) {
        const next = await executeVerb(verb, state);
        if (run.hangup) break;
        if (next !== undefined) {
          document = next;
          break;
        }
      }
      if (run.hangup) break;
    }
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
    run.interrupted = true;
  }
  return run;
}

interface RunState {
  run: VoiceRun;
  hooks: VoiceTwimlHooks;
  documentUrl: string | null;
}

/** Requests the next document when the call gets there in virtual time; it becomes the current document. */
async function follow(state: RunState, kind: string, url: string, method: string | undefined, extra: Record<string, string>) {
  let absolute: string;
  try {
    absolute = new URL(url, state.documentUrl ?? undefined).toString();
  } catch {
    return null;
  }
  await state.hooks.reach?.(state.run.seconds);
  const document = await state.hooks.fetch(kind, absolute, (method ?? 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST', extra);
  state.documentUrl = absolute;
  return document;
}

/** Talk time of a verb that only speaks or waits (also nested in <Gather>). */
function speakingSeconds(verb: TwimlElement): number {
  switch (verb.name) {
    case 'Say':
      return sayingSeconds(verb.text) * loops(verb.attributes);
    case 'Play':
      return PLAY_SECONDS * loops(verb.attributes);
    case 'Pause':
      return Number(verb.attributes.length ?? 1) || 1;
    default:
      return 0;
  }
}

async function executeVerb(verb: TwimlElement, state: RunState): Promise<string | null | undefined> {
  const { run } = state;
  const push = (seconds: number, text?: string) => {
    run.executed.push({ verb: verb.name, seconds, text, attributes: verb.attributes });
    run.seconds += seconds;
  };
  switch (verb.name) {
    case 'Say':
    case 'Play':
      push(speakingSeconds(verb), verb.text);
      return undefined;
    case 'Pause':
      push(speakingSeconds(verb));
      return undefined;
    case 'Gather':
      return gather(verb, state);
    case 'Dial':
      return dial(verb, state);
    case 'Record':
      return record(verb, state);
    case 'Redirect':
      push(0, verb.text);
      return follow(state, 'redirect', verb.text, verb.attributes.method, {});
    case 'Hangup':
      push(0);
      run.hangup = true;
      return undefined;
    case 'Reject':
      push(0);
      run.hangup = true;
      run.rejected = true;
      return undefined;
    default:
      push(0, verb.text);
      return undefined;
  }
}

/** Seconds before the person starts to answer a prompt. */
const REACTION_SECONDS = 1;
/** Seconds between two keys pressed. */
const KEY_SECONDS = 0.5;
/** speechTimeout="auto": the recognizer ends soon after the speaker stops. */
const AUTO_SPEECH_TIMEOUT = 1;

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** Twilio's default finishOnKey of <Record>: any key ends the recording. */
const RECORD_FINISH_KEYS = '1234567890*#';

/**
 * <Record>: takes the other party's next turn and ends as Twilio ends a recording; the action gets
 * RecordingSid/RecordingUrl/RecordingDuration, with Digits only when a key or a hang-up ended it:
 * - keys: a message (DEFAULT_RECORD_SECONDS, at most maxLength), then the first key of finishOnKey
 *   (default any key) ends it: `Digits` is that key; keys it does not list are heard as silence;
 * - speech: the words, then `timeout` (default 5) seconds of silence end it; no Digits;
 * - hangup: the party hangs up at the end of the recording (maxLength, default 10): `Digits=hangup`,
 *   the action is requested with the call completed and nothing it answers runs;
 * - silence: nothing is recorded; after `timeout` Twilio drops the empty recording, requests no
 *   action and the document goes on with the next verb;
 * - nobody scripted: the party talks until maxLength (default 10) ends it; no Digits.
 * maxLength cuts any of them (no Digits). Without an action the document goes on with the next verb.
 */
async function record(verb: TwimlElement, state: RunState): Promise<string | null | undefined> {
  const { run, hooks } = state;
  const attributes = verb.attributes;
  const maxLength = positive(attributes.maxLength, 0) || Infinity;
  const silenceTimeout = positive(attributes.timeout, 5) || Infinity;
  const finishKeys = attributes.finishOnKey ?? RECORD_FINISH_KEYS;
  const cap = (seconds: number) => Math.min(seconds, maxLength);
  const turn = hooks.listen?.() ?? null;
  let seconds: number;
  let digits: string | undefined;
  let input: GatherInput | undefined;
  if (turn === null) {
    seconds = maxLength === Infinity ? DEFAULT_RECORD_SECONDS : maxLength;
  } else if ('hangup' in turn) {
    seconds = maxLength === Infinity ? DEFAULT_RECORD_SECONDS : maxLength;
    digits = 'hangup';
    input = { hangup: true };
  } else if ('silence' in turn) {
    seconds = cap(silenceTimeout === Infinity ? DEFAULT_RECORD_SECONDS : silenceTimeout);
    input = { silence: true };
  } else if ('speech' in turn) {
    seconds = cap(REACTION_SECONDS + sayingSeconds(turn.speech) + silenceTimeout);
    input = { speech: turn.speech, confidence: turn.confidence };
  } else {
    const message = REACTION_SECONDS + DEFAULT_RECORD_SECONDS;
    const key = [...turn.dtmf].find((k) => finishKeys.includes(k));
    if (key !== undefined && message + KEY_SECONDS < maxLength) {
      seconds = message + KEY_SECONDS;
      digits = key;
      input = { digits: key };
    } else {
      seconds = cap(message + silenceTimeout);
    }
  }
  const entry: ExecutedVerb = { verb: 'Record', seconds, attributes };
  if (input) entry.input = input;
  run.executed.push(entry);
  const startsAt = run.seconds;
  run.seconds += seconds;
  if (input && 'silence' in input) return undefined;
  const duration = Math.max(1, Math.ceil(seconds));
  const outcome = hooks.record(verb, startsAt, duration);
  const hungUp = digits === 'hangup';
  if (hungUp) {
    run.hangup = true;
    run.farEndHangup = true;
  }
  if (!attributes.action) return undefined;
  const params: Record<string, string> = {
    RecordingSid: outcome.recordingSid,
    RecordingUrl: outcome.recordingUrl,
    RecordingDuration: String(duration),
  };
  if (digits !== undefined) params.Digits = digits;
  if (!hungUp) return follow(state, 'record-action', attributes.action, attributes.method, params);
  // the caller is gone: Twilio still hands over the recording, with the call's status; nothing it answers runs
  await follow(state, 'record-action', attributes.action, attributes.method, { ...params, CallStatus: 'completed' });
  return undefined;
}

/**
 * <Gather>: speaks its nested verbs, then listens for the other party's next turn with Twilio's rules:
 * speech or digits go to the action (default: the current document's URL) as SpeechResult/Confidence or
 * Digits; no input waits `timeout` seconds and falls through to the next verb, unless
 * actionOnEmptyResult="true" requests the action without them; a hang-up ends the call.
 */
async function gather(verb: TwimlElement, state: RunState): Promise<string | null | undefined> {
  const { run, hooks } = state;
  const attributes = verb.attributes;
  const entry: ExecutedVerb = { verb: 'Gather', seconds: 0, attributes };
  const prompt = verb.children.map((c) => c.text).join(' ');
  if (prompt) entry.text = prompt;
  run.executed.push(entry);
  let seconds = 0;
  for (const child of verb.children) {
    const childSeconds = speakingSeconds(child);
    run.executed.push({
      verb: child.name,
      seconds: childSeconds,
      text: child.text || undefined,
      attributes: { ...child.attributes, parent: 'Gather' },
    });
    seconds += childSeconds;
  }
  const inputs = (attributes.input ?? 'dtmf').toLowerCase().split(/\s+/);
  const timeout = positive(attributes.timeout, 5) || 5;
  const turn = hooks.listen?.() ?? null;
  let input: GatherInput = { silence: true };
  let params: Record<string, string> | null = null;
  if (turn && 'hangup' in turn) {
    input = { hangup: true };
    entry.input = input;
    entry.seconds = seconds;
    run.seconds += seconds;
    run.hangup = true;
    run.farEndHangup = true;
    return undefined;
  }
  if (turn && 'speech' in turn && inputs.includes('speech')) {
    const speechTimeout = attributes.speechTimeout === 'auto' ? AUTO_SPEECH_TIMEOUT : positive(attributes.speechTimeout, timeout);
    seconds += REACTION_SECONDS + sayingSeconds(turn.speech) + speechTimeout;
    const heard = attributes.profanityFilter === 'false' ? turn.speech : filterProfanity(turn.speech);
    input = { speech: heard, confidence: turn.confidence };
    params = { SpeechResult: heard, Confidence: String(turn.confidence) };
  } else if (turn && 'dtmf' in turn && inputs.includes('dtmf')) {
    const finishOnKey = attributes.finishOnKey ?? '#';
    const numDigits = Math.floor(positive(attributes.numDigits, 0));
    let digits = '';
    let finished = false;
    let pressed = 0;
    for (const key of turn.dtmf) {
      pressed++;
      if (finishOnKey !== '' && key === finishOnKey) {
        finished = true;
        break;
      }
      digits += key;
      if (numDigits > 0 && digits.length >= numDigits) {
        finished = true;
        break;
      }
    }
    seconds += REACTION_SECONDS + pressed * KEY_SECONDS + (finished ? 0 : timeout);
    if (digits !== '') {
      input = { digits };
      params = { Digits: digits };
    }
  } else {
    seconds += timeout;
  }
  entry.input = input;
  entry.seconds = seconds;
  run.seconds += seconds;
  const action = attributes.action ?? state.documentUrl;
  if (!action) return undefined;
  if (params) return follow(state, 'gather-action', action, attributes.method, params);
  if (attributes.actionOnEmptyResult === 'true') return follow(state, 'gather-action', action, attributes.method, {});
  return undefined;
}

/**
 * <Dial>: connects the number (its text or its first <Number>); the action gets DialCallStatus,
 * DialCallSid and DialCallDuration, and without an action the document goes on with the next verb.
 */
async function dial(verb: TwimlElement, state: RunState): Promise<string | null | undefined> {
  const { run, hooks } = state;
  const entry: ExecutedVerb = { verb: 'Dial', seconds: 0, attributes: verb.attributes };
  const target = verb.children.find((c) => c.name === 'Number')?.text ?? verb.text;
  if (target) entry.text = target;
  run.executed.push(entry);
  if (!hooks.dial || !target) return undefined;
  await hooks.reach?.(run.seconds);
  const result = await hooks.dial(verb, run.seconds);
  entry.dial = result.outcome;
  entry.seconds = result.seconds;
  run.seconds += result.seconds;
  const action = verb.attributes.action;
  if (result.callerHungUp) {
    run.hangup = true;
    run.farEndHangup = true;
  }
  if (!action) return undefined;
  const params: Record<string, string> = { DialCallStatus: result.outcome.status };
  if (result.outcome.callSid) params.DialCallSid = result.outcome.callSid;
  if (result.outcome.duration !== null) params.DialCallDuration = String(result.outcome.duration);
  if (!result.callerHungUp) return follow(state, 'dial-action', action, verb.attributes.method, params);
  // Twilio tells the action that the call is over; nothing it answers runs
  await follow(state, 'dial-action', action, verb.attributes.method, { ...params, CallStatus: 'completed' });
  return undefined;
}

/** Words Twilio's profanity filter masks (all but the first letter become asterisks). */
const PROFANITIES = new Set(['fuck', 'fucking', 'shit', 'bitch', 'asshole', 'bastard', 'damn', 'crap', 'dick', 'piss']);

export function filterProfanity(text: string): string {
  return text.replace(/[A-Za-z]+/g, (word) => (PROFANITIES.has(word.toLowerCase()) ? word[0] + '*'.repeat(word.length - 1) : word));
}

export interface MessagingReply {
  body: string;
  to?: string;
  from?: string;
  mediaUrls: string[];
}

/** The <Message> replies of a messaging document. */
export function messagingReplies(xml: string): MessagingReply[] {
  return parseTwiml(xml)
    .filter((verb) => verb.name === 'Message')
    .map((verb) => {
      const bodyChild = verb.children.find((c) => c.name === 'Body');
      return {
        body: bodyChild ? bodyChild.text : verb.text,
        to: verb.attributes.to,
        from: verb.attributes.from,
        mediaUrls: verb.children.filter((c) => c.name === 'Media').map((c) => c.text),
      };
    });
}
