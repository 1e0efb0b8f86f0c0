import { Inject, Injectable } from '@nestjs/common';
import { CallRecordsService } from '../calls/call-records.service';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { appLogger } from '../common/logger';
import { maskPhoneNumber, normalizeE164 } from '../common/phone-number';
import { hangupTwiml, messagingResponse } from '../twilio/twiml';
import { isTerminalCallStatus } from '../twilio/twilio.types';
import { ConversationsService } from '../conversations/conversations.service';
import { NumbersService } from '../numbers/numbers.service';
import { TwilioParams, inboundCallEvent, inboundSmsEvent, param, sidOf, smsKeyword } from './twilio-params';
import { greetingTwiml } from './greeting.twiml';
import { WebhookInboxService } from './webhook-inbox.service';

/** Answers Twilio's voice and messaging webhooks with TwiML. */
@Injectable()
export class InboundService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly inbox: WebhookInboxService,
    private readonly calls: CallRecordsService,
    private readonly numbers: NumbersService,
    private readonly conversations: ConversationsService,
  ) {}

  /**
   * An inbound call gets the greeting and the configured action; a call we placed gets its own TwiML.
   * `emptyVoicemail`: the greeting's redirect after a voicemail nobody spoke into, which we hang up.
   */
  async answerCall(
    params: TwilioParams,
    idempotencyToken: string | null,
    recordId: string | null = null,
    emptyVoicemail = false,
  ): Promise<string> {
    const classified = inboundCallEvent(params);
    if (!classified) return hangupTwiml();
    // the TwiML fetch of a call we placed can come before any answer or callback: it names the sid first;
    // the caller is on the line, so a failed write must not keep the call from its TwiML
    if (recordId && classified.kind !== 'inbound_call') {
      await this.calls.attachIntentSid(recordId, classified.sid).catch((error: unknown) =>
        appLogger().event('warn', 'call_sid_not_stored', {
          record_id: recordId,
          call_sid: classified.sid,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    }
    const event = await this.inbox.keep({ ...classified, idempotencyToken, payload: params });
    if (event) await this.inbox.apply(event);
    else if (classified.kind === 'inbound_call' && !(await this.calls.exists(classified.sid))) {
      // a retry of a request whose first attempt is still being stored or failed: store it now
      await this.inbox.applyPending(classified.sid);
    }
    if (emptyVoicemail) {
      // the caller said nothing, so Twilio requested no Record action: our TwiML ends the call (unless it is over)
      const twiml = hangupTwiml();
      if (!isTerminalCallStatus(param(params, 'CallStatus') ?? '')) await this.noteServedTwiml(classified.sid, twiml);
      return twiml;
    }
    // <Record> without its own action would fetch this URL again: the recording is done, hang up
    if (param(params, 'RecordingSid') || param(params, 'RecordingUrl')) {
      // Digits=hangup (or the call over): the caller ended the recording by hanging up, as the <Record> expected
      const callerLeft = param(params, 'Digits') === 'hangup' || isTerminalCallStatus(param(params, 'CallStatus') ?? '');
      const twiml = hangupTwiml();
      if (!callerLeft) await this.noteServedTwiml(classified.sid, twiml);
      return twiml;
    }
    if (classified.kind === 'inbound_call') {
      // a number given an assistant: the assistant answers; the others keep the configured greeting
      const called = normalizeE164(param(params, 'To'));
      const assistantId = called ? await this.numbers.assistantOf(called) : null;
      const opening = assistantId ? await this.conversations.open(classified.sid, assistantId, 'inbound', idempotencyToken) : null;
      // the greeting's end was noted when the call was stored
      return opening ?? greetingTwiml(this.config);
    }
    const key = recordId ? { id: recordId } : { sid: classified.sid };
    const placed = await this.calls.findCall(key);
    if (placed?.assistant_id) {
      const opening = await this.conversations.open(classified.sid, placed.assistant_id, 'outbound', idempotencyToken);
      if (opening) return opening;
    }
    return (await this.calls.placedCallTwiml(key, this.config.twilio)) ?? hangupTwiml();
  }

  /** The caller's turn of a conversation (a `<Gather>` result): the assistant's answer as TwiML. */
  answerGather(params: TwilioParams, step: number, idempotencyToken: string | null): Promise<string> {
    const callSid = sidOf(params);
    if (!callSid) return Promise.resolve(hangupTwiml());
    const confidence = Number(param(params, 'Confidence'));
    return this.conversations.answerGather({
      callSid,
      step,
      speech: param(params, 'SpeechResult')?.trim() || null,
      confidence: param(params, 'Confidence') !== undefined && Number.isFinite(confidence) ? confidence : null,
      digits: param(params, 'Digits') ?? null,
      twilioToken: idempotencyToken,
    });
  }

  /** Stores the message once; STOP/START/HELP and the optional auto-reply answer only the first delivery. */
  async answerSms(params: TwilioParams, idempotencyToken: string | null): Promise<string> {
    const classified = inboundSmsEvent(params);
    const response = messagingResponse();
    if (!classified) return response.toString();
    const event = await this.inbox.keep({ ...classified, idempotencyToken, payload: params });
    if (event) await this.inbox.apply(event);
    // a retry whose first attempt was kept but failed before storing the message (the database
    // went away in between) stores it now and answers as the first delivery would have
    else if ((await this.inbox.applyPending(classified.sid)) === 0) return response.toString();
    // the body reaches the log only with LOG_MESSAGE_BODIES=true (the logger drops it otherwise)
    appLogger().event('info', 'sms_received', {
      sid: classified.sid,
      from: maskPhoneNumber(param(params, 'From')),
      to: maskPhoneNumber(param(params, 'To')),
      body: param(params, 'Body'),
    });
    const keyword = smsKeyword(param(params, 'Body'));
    if (keyword?.action === 'help') response.message(this.config.webhooks.smsHelpText);
    // opt-out keywords are answered as always; other texts to an assistant's number are its turns
    else if (!keyword && (await this.smsToAssistant(classified.sid, params))) return response.toString();
    else if (!keyword && this.config.webhooks.smsAutoReply) response.message(this.config.webhooks.smsAutoReply);
    return response.toString();
  }

  /** Hands an SMS to the assistant of the number it was sent to; false when that number has none. */
  private async smsToAssistant(sid: string, params: TwilioParams): Promise<boolean> {
    const to = normalizeE164(param(params, 'To'));
    const from = normalizeE164(param(params, 'From'));
    const assistantId = to && from ? await this.numbers.assistantOf(to) : null;
    if (!assistantId || !to || !from) return false;
    return this.conversations.answerSms({ sid, from, to, body: param(params, 'Body') ?? '', assistantId });
  }

  /** Notes the TwiML served for the report's ended_by; the caller is on the line, so a failed note only logs. */
  private async noteServedTwiml(sid: string, twiml: string): Promise<void> {
    await this.calls.noteServedTwiml(sid, twiml).catch((error: unknown) =>
      appLogger().event('warn', 'call_twiml_end_not_stored', {
        call_sid: sid,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }
}
