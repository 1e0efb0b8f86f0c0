import { normalizeE164 } from '../common/phone-number';

/** What an agent answers a turn with. */
export interface AgentReply {
  say: string | null;
  voice: string | null;
  play: string | null;
  /** A number to connect the caller to, or true for the assistant's transfer_number. */
  transfer: string | true | null;
  digits: string | null;
  hangup: boolean;
}

const MAX_SAY = 4000;

/**
 * The agent's answer checked field by field; a string saying what is wrong otherwise (the turn then
 * gets the spoken fallback, as for an agent that did not answer).
 */
export function parseAgentReply(json: unknown): AgentReply | string {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return 'the answer is not a JSON object';
  const body = json as Record<string, unknown>;
  const reply: AgentReply = { say: null, voice: null, play: null, transfer: null, digits: null, hangup: false };
  if (body.say !== undefined && body.say !== null) {
    // eslint-disable-next-line no-control-regex -- control characters have no place in TwiML
    if (typeof body.say !== 'string' || body.say.length > MAX_SAY || /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(body.say)) {
      return `say must be text of at most ${MAX_SAY} characters`;
    }
    reply.say = body.say.trim() || null;
  }
  if (body.voice !== undefined && body.voice !== null) {
    if (typeof body.voice !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(body.voice)) return 'voice must be a Twilio voice name';
    reply.voice = body.voice;
  }
  if (body.play !== undefined && body.play !== null) {
    if (typeof body.play !== 'string' || !isHttpUrl(body.play)) return 'play must be an http(s) URL';
    reply.play = body.play;
  }
  if (body.transfer !== undefined && body.transfer !== null && body.transfer !== false) {
    if (body.transfer === true) reply.transfer = true;
    else {
      const number = typeof body.transfer === 'string' ? normalizeE164(body.transfer) : null;
      if (!number) return 'transfer must be an E.164 number or true';
      reply.transfer = number;
    }
  }
  if (body.digits !== undefined && body.digits !== null) {
    if (typeof body.digits !== 'string' || !/^[0-9*#wW]{1,64}$/.test(body.digits)) return 'digits must be keys (0-9, *, #, w for a pause)';
    reply.digits = body.digits;
  }
  if (body.hangup !== undefined && body.hangup !== null) {
    if (typeof body.hangup !== 'boolean') return 'hangup must be true or false';
    reply.hangup = body.hangup;
  }
  if (body.listen !== undefined && body.listen !== null && typeof body.listen !== 'boolean') return 'listen must be true or false';
  return reply;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
