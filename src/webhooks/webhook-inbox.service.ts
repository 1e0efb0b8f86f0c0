import { Injectable } from '@nestjs/common';
import { CallRecordsService } from '../calls/call-records.service';
import { appLogger } from '../common/logger';
import { MessageRecordsService } from '../sms/message-records.service';
import { OptOutsService } from '../sms/opt-outs.service';
import {
  TwilioParams,
  asCallStatus,
  callObservationOf,
  intParam,
  mediaUrlsOf,
  param,
  smsKeyword,
  classifyStatusCallback,
  messageObservationOf,
  recordingOf,
} from './twilio-params';
import { WebhookEventEntity } from './webhook-event.entity';
import { NewWebhookEvent, WebhookEventRepository } from './webhook-event.repository';
import { WebhookMetricsService } from './webhook-metrics.service';

export type ReceiveOutcome = 'applied' | 'deferred' | 'duplicate' | 'ignored';

/**
 * The inbox: every authentic webhook is kept (webhook_events, deduplicated on its dedupe key),
 * then handed to the module that owns its record. An event about a record that does not exist yet
 * stays pending and is applied by applyPending(sid) once the record is created (calls and SMS
 * announce the records their API stores), or by reconciliation.
 */
@Injectable()
export class WebhookInboxService {
  constructor(
    private readonly events: WebhookEventRepository,
    private readonly calls: CallRecordsService,
    private readonly messages: MessageRecordsService,
    private readonly optOuts: OptOutsService,
    private readonly metrics: WebhookMetricsService,
  ) {
    calls.onRecordStored((sid) => this.applyPending(sid));
    messages.onRecordStored((sid) => this.applyPending(sid));
  }

  /** Keeps the event; null when an identical one is already in the inbox. */
  async keep(event: NewWebhookEvent): Promise<WebhookEventEntity | null> {
    const stored = await this.events.insertIfNew(event);
    if (stored) this.metrics.received(event.kind);
    else this.metrics.duplicate();
    return stored;
  }

  /** A call, message or recording status callback. */
  async receiveStatus(params: TwilioParams, idempotencyToken: string | null, recordId: string | null = null): Promise<ReceiveOutcome> {
    const classified = classifyStatusCallback(params);
    if (!classified) {
      appLogger().event('warn', 'webhook_ignored', {
        reason: 'not a call, message or recording status callback',
        keys: Object.keys(params).sort(),
      });
      return 'ignored';
    }
    // best effort: when it fails the event still waits in the inbox and reconciliation adopts the record
    if (recordId) {
      await this.attachIntentSid(classified.kind, recordId, params).catch((error: unknown) =>
        appLogger().event('warn', 'intent_sid_not_stored', {
          record_id: recordId,
          sid: classified.sid,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    }
    const event = await this.keep({ ...classified, idempotencyToken, payload: params });
    if (!event) return 'duplicate';
    if (await this.apply(event)) {
      // events that arrived before the record existed, if its creator did not apply them already
      if (event.kind !== 'recording_status') await this.applyPending(event.sid);
      return 'applied';
    }
    this.metrics.deferred();
    return 'deferred';
  }

  /**
   * A callback to a URL we gave Twilio for the record `recordId` names the Twilio sid that record
   * may not have yet (its create answer was lost or is still on its way): the record takes it.
   */
  private async attachIntentSid(kind: WebhookEventEntity['kind'], recordId: string, params: TwilioParams): Promise<void> {
    if (kind === 'message_status') {
      const sid = param(params, 'MessageSid') ?? param(params, 'SmsSid');
      if (sid) await this.messages.attachIntentSid(recordId, sid);
    } else {
      const sid = param(params, 'CallSid');
      if (sid) await this.calls.attachIntentSid(recordId, sid);
    }
  }

  /**
   * Applies the events kept for `sid` while its record did not exist. Call it right after storing a
   * record; reconciliation also calls it, so a caller that forgets only delays the events.
   */
  async applyPending(sid: string): Promise<number> {
    let applied = 0;
    for (const event of await this.events.findPendingForSid(sid)) {
      if (await this.apply(event)) {
        applied++;
        this.metrics.appliedLate();
      }
    }
    return applied;
  }

  /** Applies one event to its record; false when the record does not exist (yet). */
  async apply(event: WebhookEventEntity): Promise<boolean> {
    const params = event.payload;
    let applied = false;
    switch (event.kind) {
      case 'call_status':
        applied = await this.calls.observe(event.sid, callObservationOf(params), 'webhook');
        break;
      case 'message_status':
        applied = await this.messages.observe(event.sid, messageObservationOf(params), 'webhook');
        break;
      case 'recording_status': {
        const recording = recordingOf(params);
        if (recording) await this.calls.recordRecording(recording);
        applied = true;
        break;
      }
      case 'inbound_call':
        await this.calls.recordInbound({
          sid: event.sid,
          from: (param(params, 'From') ?? '').slice(0, 32),
          to: (param(params, 'To') ?? '').slice(0, 32),
          status: asCallStatus(param(params, 'CallStatus')) ?? 'ringing',
        });
        await this.events.markApplied(event.id);
        await this.applyPending(event.sid);
        applied = true;
        break;
      case 'inbound_sms':
        await this.storeInboundSms(event.sid, params, event.receivedAt);
        applied = true;
        break;
      case 'call_twiml':
        applied = true;
        break;
    }
    if (applied) await this.events.markApplied(event.id);
    return applied;
  }

  /** An inbound SMS is stored once, and STOP/START change the sender's opt-out state. */
  private async storeInboundSms(sid: string, params: TwilioParams, receivedAt: Date): Promise<void> {
    const from = (param(params, 'From') ?? '').slice(0, 32);
    const body = typeof params.Body === 'string' ? params.Body : (param(params, 'Body') ?? '');
    await this.messages.recordInbound({
      sid,
      from,
      to: (param(params, 'To') ?? '').slice(0, 32),
      body,
      segments: intParam(params, 'NumSegments') ?? 1,
      mediaUrls: mediaUrlsOf(params),
    });
    const keyword = smsKeyword(body);
    if (from && (keyword?.action === 'stop' || keyword?.action === 'start')) {
      await this.optOuts.setOptOut(from, keyword.action === 'stop', keyword.word, receivedAt);
    }
  }
}
