import { Inject, Injectable } from '@nestjs/common';
import { CallControlService, TransferOutcome } from '../calls/call-control.service';
import { CallRecordsService } from '../calls/call-records.service';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import type { ApplyGuard, GuardedApply } from '../db/guarded-apply';
import { APP_CONFIG } from '../config/config.module';
import { MessageRecordsService } from '../sms/message-records.service';
import { hangupTwiml } from '../twilio/twiml';
import { OptOutsService } from '../sms/opt-outs.service';
import {
  ClassifiedEvent,
  TwilioParams,
  amdEvent,
  asCallStatus,
  dialEvent,
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
import { NewWebhookEvent, WebhookEventRepository, applyStoredEventGuard, keepEventGuard } from './webhook-event.repository';
import { greetingTwiml } from './greeting.twiml';
import { WebhookMetricsService } from './webhook-metrics.service';

export type ReceiveOutcome = 'applied' | 'deferred' | 'duplicate' | 'ignored' | 'failed';

/** `deferred`: the record does not exist yet; `failed`: applying threw, the event waits for its next attempt or is set aside. */
export type ApplyOutcome = 'applied' | 'deferred' | 'failed';

/** Why an attempt failed, short enough for a column and a log line, without parameters or SQL. */
export function failureReason(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return message.slice(0, 500);
}

/**
 * The inbox: every authentic webhook is kept (webhook_events, deduplicated on its dedupe key),
 * then handed to the module that owns its record. An event about a record that does not exist yet
 * stays pending and is applied by applyPending(sid) once the record is created (calls and SMS
 * announce the records their API stores), or by reconciliation.
 */
@Injectable()
export class WebhookInboxService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: WebhookEventRepository,
    private readonly calls: CallRecordsService,
    private readonly messages: MessageRecordsService,
    private readonly optOuts: OptOutsService,
    private readonly metrics: WebhookMetricsService,
    private readonly control: CallControlService,
  ) {
    calls.onRecordStored((sid) => this.applyPending(sid));
    messages.onRecordStored((sid) => this.applyPending(sid));
  }

  /** Keeps the event; null when an identical one is already in the inbox. */
  async keep(event: NewWebhookEvent): Promise<WebhookEventEntity | null> {
    const stored = await this.events.insertIfNew(event);
    if (stored) this.metrics.received(event.kind);
    else this.metrics.duplicate(event.kind);
    return stored;
  }

  /**
   * A call, message or recording status callback. A call or message callback is kept and applied in
   * one statement (see CallRecordsService.observeCallback); when that fails, the event is kept on
   * its own with the failure counted, and retried later like any failed event.
   */
  async receiveStatus(params: TwilioParams, idempotencyToken: string | null, recordId: string | null = null): Promise<ReceiveOutcome> {
    const classified = classifyStatusCallback(params);
    if (!classified) {
      appLogger().event('warn', 'webhook_ignored', {
        reason: 'not a call, message or recording status callback',
        keys: Object.keys(params).sort(),
      });
      return 'ignored';
    }
    const { kind, sid } = classified;
    if (kind !== 'call_status' && kind !== 'message_status')
      return this.receiveRecordingStatus(classified, params, idempotencyToken, recordId);
    const event: NewWebhookEvent = { ...classified, idempotencyToken, payload: params };
    const receivedAt = new Date();
    const guard = keepEventGuard(event, receivedAt);
    let applied: GuardedApply<unknown>;
    try {
      applied = await this.observe(kind, sid, recordId, params, receivedAt, guard);
    } catch (error) {
      if (!recordId) return this.keepFailed(event, error);
      // giving the intent its sid is best effort: the callback applies without it, and
      // reconciliation completes the intent
      appLogger().event('warn', 'intent_sid_not_stored', { record_id: recordId, sid, error: failureReason(error) });
      try {
        applied = await this.observe(kind, sid, null, params, receivedAt, guard);
      } catch (again) {
        return this.keepFailed(event, again);
      }
    }
    if (!applied.guard.guard_event_id) {
      this.metrics.duplicate(kind);
      return 'duplicate';
    }
    this.metrics.received(kind);
    if (!applied.found) {
      this.metrics.deferred(kind);
      // the record may have been stored while the statement ran, and its creator looked for waiting
      // events before this one was committed: look once more now that it is
      await this.applyPending(sid);
      return 'deferred';
    }
    // events that arrived before the record existed, if its creator did not apply them already
    if (applied.guard.guard_pending) await this.applyPending(sid);
    return 'applied';
  }

  /**
   * Answering-machine detection's result: kept, then handed to the calls module, which stores it
   * and leaves the voicemail once. A repeat is handed on too (what it asks for happens once), so a
   * first attempt that failed halfway is finished. Throws when it could not be applied: the answer
   * is a 5xx and Twilio retries.
   */
  async receiveMachineDetection(params: TwilioParams, idempotencyToken: string | null, recordId: string | null): Promise<ReceiveOutcome> {
    const classified = amdEvent(params);
    if (!classified) {
      appLogger().event('warn', 'webhook_ignored', { reason: 'not a machine detection result', keys: Object.keys(params).sort() });
      return 'ignored';
    }
    const { answeredBy, ...event } = classified;
    const stored = await this.keep({ ...event, idempotencyToken, payload: params });
    try {
      await this.control.machineDetected(recordId ? { id: recordId } : { sid: event.sid }, event.sid, answeredBy);
    } catch (error) {
      if (stored) await this.countFailure(stored, failureReason(error));
      throw error;
    }
    if (stored) await this.events.markApplied(stored.id);
    return stored ? 'applied' : 'duplicate';
  }

  /**
   * A transfer's `<Dial>` ended: kept, its outcome stored on the call (once), and the TwiML that
   * ends the call returned. The caller is on the line: when storing fails the call still gets its
   * answer, and the kept event is applied again later.
   */
  receiveDialOutcome(params: TwilioParams, idempotencyToken: string | null, recordId: string | null): Promise<string> {
    return this.receiveDial('call_dial', params, idempotencyToken, (sid, outcome) =>
      this.control.transferEnded(recordId ? { id: recordId } : { sid }, outcome),
    );
  }

  /**
   * The inbound greeting's forward `<Dial>` ended: kept, who ends the call from here on noted, and
   * the TwiML that ends the call returned; as for a transfer, a failure or a call not stored yet
   * still gets its answer, and the kept event is applied later.
   */
  receiveForwardOutcome(params: TwilioParams, idempotencyToken: string | null): Promise<string> {
    return this.receiveDial('call_forward', params, idempotencyToken, (sid, outcome) => this.control.forwardEnded(sid, outcome));
  }

  /** A `<Dial>` action of ours: kept, then handed to `end` (null: the call is not stored yet, the event waits). */
  private async receiveDial(
    kind: 'call_dial' | 'call_forward',
    params: TwilioParams,
    idempotencyToken: string | null,
    end: (sid: string, outcome: TransferOutcome) => Promise<string | null>,
  ): Promise<string> {
    const classified = dialEvent(params, kind);
    if (!classified) {
      appLogger().event('warn', 'webhook_ignored', { reason: 'not a Dial action', keys: Object.keys(params).sort() });
      return hangupTwiml();
    }
    const { status, dialCallSid, durationSeconds, callEnded, ...event } = classified;
    const stored = await this.keep({ ...event, idempotencyToken, payload: params });
    try {
      const twiml = await end(classified.sid, { status, callSid: dialCallSid, durationSeconds, callEnded });
      if (stored && twiml !== null) await this.events.markApplied(stored.id);
      return twiml ?? hangupTwiml();
    } catch (error) {
      if (stored) await this.countFailure(stored, failureReason(error));
      return hangupTwiml();
    }
  }

  /** A recording callback: kept, then applied (no statement to share: recordings are upserted as they come). */
  private async receiveRecordingStatus(
    classified: ClassifiedEvent,
    params: TwilioParams,
    idempotencyToken: string | null,
    recordId: string | null,
  ): Promise<ReceiveOutcome> {
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
    return this.attempt(event);
  }

  /** Applying with the inbox's guard failed: the event is kept anyway, with the failure counted (null for a duplicate). */
  private async keepFailed(event: NewWebhookEvent, error: unknown): Promise<ReceiveOutcome> {
    // when this fails too the database is failing: the caller answers 5xx and Twilio retries
    const stored = await this.keep(event);
    if (!stored) return 'duplicate';
    await this.countFailure(stored, failureReason(error));
    return 'failed';
  }

  /** Applies a call or message status callback with `guard`, in one statement. */
  private observe(
    kind: 'call_status' | 'message_status',
    sid: string,
    recordId: string | null,
    params: TwilioParams,
    receivedAt: Date,
    guard: ApplyGuard,
  ): Promise<GuardedApply<unknown>> {
    return kind === 'call_status'
      ? this.calls.observeCallback(sid, recordId, callObservationOf(params), guard)
      : this.messages.observeCallback(sid, recordId, messageObservationOf(params, receivedAt), guard);
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
      if ((await this.attempt(event)) === 'applied') {
        applied++;
        this.metrics.appliedLate(event.kind);
      }
    }
    return applied;
  }

  /** Applies one event to its record; false when the record does not exist (yet) or applying failed. */
  async apply(event: WebhookEventEntity): Promise<boolean> {
    return (await this.attempt(event)) === 'applied';
  }

  /**
   * Applies one event; never throws for the event's sake. A failure is counted on the event, which
   * is retried after a backoff and set aside after config.inbox.maxAttempts failures.
   */
  async attempt(event: WebhookEventEntity): Promise<ApplyOutcome> {
    try {
      return (await this.applyOnce(event)) ? 'applied' : 'deferred';
    } catch (error) {
      await this.countFailure(event, failureReason(error));
      return 'failed';
    }
  }

  /**
   * Counts a failed attempt for every pending event about `sid` when its record could not be created
   * (Twilio does not know the sid): such events are set aside like any other after the last attempt.
   */
  async recordFailureForSid(sid: string, reason: string): Promise<void> {
    const { maxAttempts, retryBaseSeconds } = this.config.inbox;
    for (const event of await this.events.recordFailureForSid(sid, reason, maxAttempts, retryBaseSeconds)) {
      this.logSetAside(event, event.attempts, reason);
    }
  }

  private async countFailure(event: WebhookEventEntity, reason: string): Promise<void> {
    const { maxAttempts, retryBaseSeconds } = this.config.inbox;
    appLogger().event('warn', 'webhook_event_failed', { event_id: event.id, kind: event.kind, sid: event.sid, error: reason });
    try {
      const failure = await this.events.recordFailure(event.id, reason, maxAttempts, retryBaseSeconds);
      if (failure?.setAside) this.logSetAside(event, failure.attempts, reason);
    } catch (error) {
      // the database itself is failing: the event stays pending and is tried again
      appLogger().event('error', 'webhook_event_failure_not_counted', { event_id: event.id, error: failureReason(error) });
    }
  }

  private logSetAside(event: Pick<WebhookEventEntity, 'id' | 'kind' | 'sid'>, attempts: number, reason: string): void {
    this.metrics.setAside();
    appLogger().event('warn', 'webhook_event_set_aside', { event_id: event.id, kind: event.kind, sid: event.sid, attempts, reason });
  }

  private async applyOnce(event: WebhookEventEntity): Promise<boolean> {
    const params = event.payload;
    if (event.kind === 'call_status' || event.kind === 'message_status') {
      // marked applied in the same statement; found means applied, by this call or an earlier one
      return (await this.observe(event.kind, event.sid, null, params, event.receivedAt, applyStoredEventGuard(event.id))).found;
    }
    let applied = false;
    switch (event.kind) {
      case 'recording_status': {
        const recording = recordingOf(params);
        if (recording) await this.calls.recordRecording(recording);
        applied = true;
        break;
      }
      case 'inbound_call': {
        const status = asCallStatus(param(params, 'CallStatus')) ?? 'ringing';
        const stored = await this.calls.recordInbound({
          sid: event.sid,
          from: (param(params, 'From') ?? '').slice(0, 32),
          to: (param(params, 'To') ?? '').slice(0, 32),
          status,
          // the greeting ends in <Record>: the voicemail is fetched even if its callbacks are lost
          record: this.config.webhooks.inboundAction === 'voicemail',
          greeting: greetingTwiml(this.config),
        });
        // the voice URL's later requests (a <Record> action) say how the call went on: a number
        // configured without a status callback sends nothing else
        if (!stored) await this.calls.observe(event.sid, { status }, 'webhook');
        await this.events.markApplied(event.id);
        await this.applyPending(event.sid);
        applied = true;
        break;
      }
      case 'inbound_sms':
        await this.storeInboundSms(event.sid, params, event.receivedAt);
        applied = true;
        break;
      case 'call_twiml':
        applied = true;
        break;
      case 'call_amd': {
        const amd = amdEvent(params);
        if (amd) await this.control.machineDetected({ sid: event.sid }, event.sid, amd.answeredBy);
        applied = true;
        break;
      }
      case 'call_dial': {
        const dial = dialEvent(params);
        if (dial) {
          await this.control.transferEnded(
            { sid: event.sid },
            { status: dial.status, callSid: dial.dialCallSid, durationSeconds: dial.durationSeconds, callEnded: dial.callEnded },
          );
        }
        applied = true;
        break;
      }
      case 'call_forward': {
        const dial = dialEvent(params, 'call_forward');
        applied =
          !dial ||
          (await this.control.forwardEnded(event.sid, {
            status: dial.status,
            callSid: dial.dialCallSid,
            durationSeconds: dial.durationSeconds,
            callEnded: dial.callEnded,
          })) !== null;
        break;
      }
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
