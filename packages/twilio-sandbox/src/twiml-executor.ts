import { XMLParser } from 'fast-xml-parser';
import type { ExecutedVerb } from './sandbox-state';

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
const MAX_DOCUMENTS = 10;

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

export interface VoiceTwimlHooks {
  /** Fetches the next document (Redirect, Record/Gather action); null when the request failed. */
  fetch(kind: string, url: string, method: string, extra: Record<string, string>): Promise<string | null>;
  /** A <Record> finished `seconds` into the call after lasting `duration` seconds. */
  record(element: TwimlElement, startsAt: number, duration: number): RecordOutcome;
}

export interface VoiceRun {
  executed: ExecutedVerb[];
  seconds: number;
  hangup: boolean;
  rejected: boolean;
}

/** Runs a voice document to its end, following Redirect and action URLs, and reports the talk time. */
export async function executeVoiceTwiml(xml: string, hooks: VoiceTwimlHooks, startAt = 0): Promise<VoiceRun> {
  const run: VoiceRun = { executed: [], seconds: startAt, hangup: false, rejected: false };
  let document: string | null = xml;
  for (let documents = 0; document !== null && documents < MAX_DOCUMENTS; documents++) {
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
      const next = await executeVerb(verb, run, hooks);
      if (run.hangup) break;
      if (next !== undefined) {
        document = next;
        break;
      }
    }
    if (run.hangup) break;
  }
  run.seconds -= startAt;
  return run;
}

async function executeVerb(verb: TwimlElement, run: VoiceRun, hooks: VoiceTwimlHooks): Promise<string | null | undefined> {
  const push = (seconds: number, text?: string) => {
    run.executed.push({ verb: verb.name, seconds, text, attributes: verb.attributes });
    run.seconds += seconds;
  };
  switch (verb.name) {
    case 'Say':
      push(sayingSeconds(verb.text) * loops(verb.attributes), verb.text);
      return undefined;
    case 'Play':
      push(PLAY_SECONDS * loops(verb.attributes), verb.text);
      return undefined;
    case 'Pause':
      push(Number(verb.attributes.length ?? 1) || 1);
      return undefined;
    case 'Gather': {
      const nested: VoiceRun = { executed: [], seconds: 0, hangup: false, rejected: false };
      for (const child of verb.children) await executeVerb(child, nested, hooks);
      const timeout = Number(verb.attributes.timeout ?? 5) || 5;
      push(nested.seconds + timeout, verb.children.map((c) => c.text).join(' ') || undefined);
      run.executed.push(...nested.executed.map((v) => ({ ...v, attributes: { ...v.attributes, parent: 'Gather' } })));
      if (verb.attributes.action && verb.attributes.actionOnEmptyResult === 'true') {
        return hooks.fetch('gather-action', verb.attributes.action, verb.attributes.method ?? 'POST', { Digits: '' });
      }
      return undefined;
    }
    case 'Record': {
      const maxLength = Number(verb.attributes.maxLength);
      const duration = Number.isFinite(maxLength) && maxLength > 0 ? maxLength : DEFAULT_RECORD_SECONDS;
      const startsAt = run.seconds;
      push(duration);
      const outcome = hooks.record(verb, startsAt, duration);
      if (verb.attributes.action) {
        return hooks.fetch('record-action', verb.attributes.action, verb.attributes.method ?? 'POST', {
          RecordingSid: outcome.recordingSid,
          RecordingUrl: outcome.recordingUrl,
          RecordingDuration: String(duration),
          Digits: 'hangup',
        });
      }
      return undefined;
    }
    case 'Redirect':
      push(0, verb.text);
      return hooks.fetch('redirect', verb.text, verb.attributes.method ?? 'POST', {});
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
