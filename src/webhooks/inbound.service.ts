import { Inject, Injectable } from '@nestjs/common';
import { CallRecordsService } from '../calls/call-records.service';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { appLogger } from '../common/logger';
import { maskPhoneNumber } from '../common/phone-number';
import { twilioCallbackUrl } from '../common/twilio-callback-url';
import { hangupTwiml, messagingResponse, voiceResponse } from '../twilio/twiml';
import { TwilioParams, inboundCallEvent, inboundSmsEvent, param, smsKeyword } from './twilio-params';
import { WebhookInboxService } from './webhook-inbox.service';

type SayAttributes = Parameters<ReturnType<typeof voiceResponse>['say']>[0];

/** Answers Twilio's voice and messaging webhooks with TwiML. */
@Injectable()
export class InboundService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly inbox: WebhookInboxService,
    private readonly calls: CallRecordsService,
  ) {}

  /** An inbound call gets the greeting and the configured action; a call we placed gets its own TwiML. */
  async answerCall(params: TwilioParams, idempotencyToken: string | null, recordId: string | null = null): Promise<string> {
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
    // <Record> without its own action would fetch this URL again: the recording is done, hang up
    if (param(params, 'RecordingSid') || param(params, 'RecordingUrl')) return hangupTwiml();
    if (classified.kind === 'inbound_call') return this.greetingTwiml();
    return (await this.calls.placedCallTwiml(recordId ? { id: recordId } : { sid: classified.sid })) ?? hangupTwiml();
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
    else if (!keyword && this.config.webhooks.smsAutoReply) response.message(this.config.webhooks.smsAutoReply);
    return response.toString();
  }

  greetingTwiml(): string {
    const { webhooks } = this.config;
    const response = voiceResponse();
    if (webhooks.inboundAudioUrl) response.play(webhooks.inboundAudioUrl);
    else {
      response.say({ voice: webhooks.inboundVoice, language: webhooks.inboundLanguage } as SayAttributes, webhooks.inboundGreeting);
    }
    const base = this.config.twilio;
    switch (webhooks.inboundAction) {
      case 'voicemail':
        response.record({
          maxLength: 120,
          playBeep: true,
          action: twilioCallbackUrl(base, '/call'),
          recordingStatusCallback: twilioCallbackUrl(base, '/status'),
          recordingStatusCallbackMethod: 'POST',
        });
        break;
      case 'forward':
        response.dial().number(webhooks.forwardTo ?? '');
        break;
      case 'hangup':
        response.hangup();
        break;
    }
    return response.toString();
  }
}
