import twilio from 'twilio';
import { XMLValidator, XMLParser } from 'fast-xml-parser';

const { VoiceResponse, MessagingResponse } = twilio.twiml;
type SayVoice = Parameters<InstanceType<typeof VoiceResponse>['say']>[0] extends infer A
  ? A extends { voice?: infer V }
    ? V
    : never
  : never;
type SayLanguage = Parameters<InstanceType<typeof VoiceResponse>['say']>[0] extends infer A
  ? A extends { language?: infer L }
    ? L
    : never
  : never;

export interface SayOptions {
  voice?: string;
  language?: string;
}

export const MAX_TWIML_LENGTH = 4000;
/** Twilio speaks at most 4096 characters per <Say>; longer text is split at spaces into several. */
export const MAX_SAY_CHARACTERS = 4000;

/** `<Response><Say>` with voice and language (several `<Say>`s for a very long message). */
export function sayTwiml(message: string, options: SayOptions = {}): string {
  const response = new VoiceResponse();
  appendSay(response, message, options);
  return response.toString();
}

/** Adds `<Say>` (several for a very long message) to `response`. */
export function appendSay(response: InstanceType<typeof VoiceResponse>, message: string, options: SayOptions = {}): void {
  for (const part of sayParts(message)) {
    response.say({ voice: options.voice as SayVoice, language: options.language as SayLanguage }, part);
  }
}

function sayParts(message: string): string[] {
  const parts: string[] = [];
  let rest = message;
  while (rest.length > MAX_SAY_CHARACTERS) {
    const space = rest.lastIndexOf(' ', MAX_SAY_CHARACTERS);
    const cut = space > 0 ? space : MAX_SAY_CHARACTERS;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut).trimStart();
  }
  parts.push(rest);
  return parts;
}

/** `<Response><Hangup/>`. */
export function hangupTwiml(): string {
  const response = new VoiceResponse();
  response.hangup();
  return response.toString();
}

/** `<Response><Play>`. */
export function playTwiml(audioUrl: string): string {
  const response = new VoiceResponse();
  response.play(audioUrl);
  return response.toString();
}

/** Why a TwiML document is unacceptable, or null when it is well-formed with a <Response> root. */
export function twimlProblem(document: string): string | null {
  if (document.length > MAX_TWIML_LENGTH) return `twiml must be at most ${MAX_TWIML_LENGTH} characters`;
  const valid = XMLValidator.validate(document);
  if (valid !== true) return `twiml is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`;
  const parsed = new XMLParser({ ignoreDeclaration: true, ignoreAttributes: true, preserveOrder: true }).parse(document) as Record<
    string,
    unknown
  >[];
  const roots = parsed.filter((node) => !('#text' in node) && !('?xml' in node));
  if (roots.length !== 1 || !('Response' in roots[0])) return 'twiml must have a single <Response> root element';
  return null;
}

/** Voice TwiML built with the SDK, for webhook answers. */
export function voiceResponse(): InstanceType<typeof VoiceResponse> {
  return new VoiceResponse();
}

/** Messaging TwiML built with the SDK, for webhook answers. */
export function messagingResponse(): InstanceType<typeof MessagingResponse> {
  return new MessagingResponse();
}
