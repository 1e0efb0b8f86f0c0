import { createMessage } from './messages.routes';
import { DEFAULT_TALK_SECONDS, partyOf, type PartyTurn } from './party-scripts';
import type { SandboxContext } from './sandbox-context';
import type { SandboxCall } from './sandbox-state';
import { countSegments } from './segments';
import { messagingReplies } from './twiml-executor';
import { API_VERSION, ApiError, newSid } from './wire';

export interface InboundCallInput {
  from: string;
  to: string;
  /** What the caller does on this call (instead of the script of `from`, if any). */
  turns?: PartyTurn[];
  /** How long the caller talks when the call <Dial>s on (default: the script's or 5 s). */
  talkSeconds?: number;
  /** How long the caller stays on a bridge the call's <Dial> makes before hanging up (default: the script's, else until the dialed party hangs up). */
  bridgeSeconds?: number;
}

export interface InboundSmsInput {
  from: string;
  to: string;
  body: string;
  mediaUrls?: string[];
}

function ownedNumber(ctx: SandboxContext, to: string) {
  const number = ctx.state.numberByPhone(to);
  if (!number) throw new ApiError(404, 20404, `${to} is not a number of this account`);
  return number;
}

/** Rings an owned number: its VoiceUrl is asked for TwiML, status goes to its StatusCallback. */
export function deliverInboundCall(ctx: SandboxContext, input: InboundCallInput): string {
  const number = ownedNumber(ctx, input.to);
  if (!number.voiceUrl) throw new ApiError(400, 21205, `${input.to} has no VoiceUrl`);
  const now = ctx.scheduler.now();
  const call: SandboxCall = {
    sid: newSid('CA'),
    to: input.to,
    from: input.from,
    direction: 'inbound',
    status: 'ringing',
    dateCreated: now,
    dateUpdated: now,
    startTime: null,
    endTime: null,
    duration: null,
    price: null,
    queueTimeMs: 0,
    answeredBy: null,
    phoneNumberSid: number.sid,
    url: number.voiceUrl,
    method: number.voiceMethod,
    twiml: null,
    fallbackUrl: number.voiceFallbackUrl,
    fallbackMethod: number.voiceFallbackMethod,
    statusCallback: number.statusCallback,
    statusCallbackMethod: number.statusCallbackMethod,
    statusCallbackEvents: ['completed'],
    timeout: 60,
    record: false,
    recordingStatusCallback: null,
    recordingStatusCallbackMethod: 'POST',
    recordingStatusCallbackEvents: ['completed'],
    machineDetection: null,
    ...(input.turns
      ? {
          party: partyOf({
            turns: input.turns,
            talkSeconds: input.talkSeconds ?? ctx.state.scripts.get(input.from)?.talkSeconds ?? DEFAULT_TALK_SECONDS,
            bridgeSeconds: input.bridgeSeconds ?? ctx.state.scripts.get(input.from)?.bridgeSeconds,
          }),
        }
      : {}),
    sipResponseCode: null,
    sequenceNumber: 0,
    executed: [],
    recordingSids: [],
    talkSeconds: 0,
  };
  ctx.state.calls.set(call.sid, call);
  ctx.calls.startInbound(call);
  return call.sid;
}

/** Delivers an SMS to an owned number's SmsUrl; each <Message> of the answer is sent back out. */
export function deliverInboundSms(ctx: SandboxContext, input: InboundSmsInput): string {
  const number = ownedNumber(ctx, input.to);
  const mediaUrls = input.mediaUrls ?? [];
  const message = createMessage(ctx, {
    to: input.to,
    from: input.from,
    body: input.body,
    mediaUrls,
    statusCallback: null,
    direction: 'inbound',
  });
  ctx.messages.chargeInbound(message);
  if (!number.smsUrl) return message.sid;
  const params: Record<string, string> = {
    ToCountry: 'US',
    SmsMessageSid: message.sid,
    NumMedia: String(mediaUrls.length),
    SmsSid: message.sid,
    SmsStatus: 'received',
    Body: input.body,
    To: input.to,
    NumSegments: String(countSegments(input.body).segments),
    MessageSid: message.sid,
    AccountSid: ctx.accountSid,
    From: input.from,
    ApiVersion: API_VERSION,
  };
  mediaUrls.forEach((url, i) => {
    params[`MediaUrl${i}`] = url;
    params[`MediaContentType${i}`] = /\.png$/i.test(url) ? 'image/png' : /\.gif$/i.test(url) ? 'image/gif' : 'image/jpeg';
  });
  const exchange = async () => {
    const result = await ctx.sender.request({
      kind: 'sms-url',
      resourceSid: message.sid,
      url: number.smsUrl!,
      method: number.smsMethod,
      params,
      fallbackUrl: number.smsFallbackUrl,
      fallbackMethod: number.smsFallbackMethod,
    });
    if (!result.ok || ctx.scheduler.isStopped || ctx.state.messages.get(message.sid) !== message) return;
    let replies: ReturnType<typeof messagingReplies>;
    try {
      replies = messagingReplies(result.body);
    } catch {
      return;
    }
    for (const reply of replies) {
      createMessage(ctx, {
        to: reply.to ?? input.from,
        from: reply.from ?? input.to,
        body: reply.body,
        mediaUrls: reply.mediaUrls,
        statusCallback: null,
        direction: 'outbound-reply',
      });
    }
  };
  ctx.scheduler.track(exchange());
  return message.sid;
}
