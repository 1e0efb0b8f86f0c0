import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { AssistantsService } from '../assistants/assistants.service';
import { conversationTwiml, gatherActionUrl } from '../assistants/conversation.twiml';
import { AppError } from '../common/app-error';
import { decodeCursor, historyJson } from '../common/cursor';
import type { JsonText } from '../common/json-columns';
import { twilioCallbackUrl } from '../common/twilio-callback-url';
import { appLogger } from '../common/logger';
import { normalizeE164 } from '../common/phone-number';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { GuardrailsService } from '../guardrails/guardrails.service';
import { OptOutsService } from '../sms/opt-outs.service';
import type { TimelineEntry } from '../timeline/timeline.service';
import { completeWithRetries, storeIntent } from '../common/intent';
import { RECORD_ID_PATTERN } from '../common/intent-status';
import { TwilioGatewayError, twilioMayHaveActed } from '../twilio/twilio.errors';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { CallSnapshot, isTerminalCallStatus } from '../twilio/twilio.types';
import { MAX_TWIML_LENGTH, twimlProblem } from '../twilio/twiml';
import { callFactsOfSnapshot } from './call-observation';
import { CallRecordEntity } from './call-record.entity';
import { CallRecordRepository } from './call-record.repository';
import { CallRecordsService } from './call-records.service';
import { CallDto, CallHistoryDto, CallHistoryQueryDto, PlaceCallDto, SayOnCallDto, TransferCallDto } from './calls.dto';
import { CallTurnsService } from './call-turns.service';
import { transferTwiml } from './call-control.twiml';
import { placedCallTwiml } from './placed-call.twiml';
import { toCallDto, toTimelineEntry } from './call-dto';

export { toCallDto, toTimelineEntry } from './call-dto';

const CONTENT_FIELDS = ['message', 'audio_url', 'twiml', 'assistant_id'] as const;
const DEFAULT_VOICE = 'alice';
const DEFAULT_LANGUAGE = 'en-US';
const DEFAULT_PAGE_SIZE = 20;
/** How long after its creation a record without a price is still worth asking Twilio about on reads. */
const PRICE_WAIT_MS = 24 * 3600 * 1000;

@Injectable()
export class CallsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly twilio: TwilioGateway,
    private readonly calls: CallRecordRepository,
    private readonly records: CallRecordsService,
    private readonly optOuts: OptOutsService,
    private readonly guardrails: GuardrailsService,
    private readonly assistants: AssistantsService,
    private readonly turns: CallTurnsService,
  ) {}

  /**
   * Stores the request, then asks Twilio, then completes the record. `accepted` is true when the
   * record is not complete: Twilio's outcome is unknown (status `unknown`), or its answer is not stored yet.
   */
  async placeCall(request: PlaceCallDto, createdBy: string): Promise<{ call: CallDto; accepted: boolean }> {
    const twiml = this.twimlFor(request, request.voice ?? DEFAULT_VOICE, request.language ?? DEFAULT_LANGUAGE);
    const assistant = request.assistant_id === undefined ? null : await this.assistants.findForField(request.assistant_id, 'assistant_id');
    const voice = assistant?.voice ?? request.voice ?? DEFAULT_VOICE;
    const language = assistant?.language ?? request.language ?? DEFAULT_LANGUAGE;
    // left on an answering machine after its beep: the request's, else the assistant's
    const voicemailMessage = request.voicemail_message ?? assistant?.voicemailMessage ?? null;
    if (await this.optOuts.isOptedOut(request.to)) {
      throw AppError.invalidField('to', `${request.to} has opted out of messages from this service`, 'recipient_opted_out');
    }
    const from = request.from ?? this.config.twilio.phoneNumber;
    const record = request.record ?? false;
    // within the live call cap and the spending ceiling: stored by the statement that counts it in
    const intent = await this.guardrails.admitStored({ kind: 'call' }, (gate) =>
      storeIntent(() =>
        this.records.createIntent(
          {
            direction: 'outbound',
            fromNumber: from,
            toNumber: request.to,
            message: request.message ?? null,
            audioUrl: request.audio_url ?? null,
            twiml: request.twiml ?? null,
            voice: request.message !== undefined || assistant ? voice : null,
            language: request.message !== undefined || assistant ? language : null,
            assistantId: assistant?.id ?? null,
            record,
            machineDetection: request.machine_detection ?? false,
            voicemailMessage,
            timeoutSeconds: request.timeout ?? null,
            agentName: request.agent_name ?? null,
            callPurpose: request.call_purpose ?? null,
            workflowId: request.workflow_id ?? null,
            metadata: request.metadata ?? {},
            createdBy,
          },
          gate,
        ),
      ),
    );
    // the record id in every URL we give Twilio lets callbacks and the TwiML fetch find this row before it has a sid
    const webhookBase = this.config.twilio;
    const ours = { record_id: intent.id };
    // Twilio takes at most 4000 characters of inline TwiML; a longer document is served from our voice webhook,
    // as is a conversation's opening (it is stored as the conversation's first turn when the call is answered)
    const content =
      twiml !== null && twiml.length <= MAX_TWIML_LENGTH ? { twiml } : { twimlUrl: twilioCallbackUrl(webhookBase, '/call', ours) };
    let snapshot: CallSnapshot;
    try {
      snapshot = await this.twilio.placeCall({
        to: request.to,
        from,
        ...content,
        statusCallbackUrl: twilioCallbackUrl(webhookBase, '/status', ours),
        record,
        ...(record ? { recordingStatusCallbackUrl: twilioCallbackUrl(webhookBase, '/status', ours) } : {}),
        timeoutSeconds: request.timeout,
        machineDetection: request.machine_detection,
        ...(voicemailMessage !== null ? { asyncAmdCallbackUrl: twilioCallbackUrl(webhookBase, '/amd', ours) } : {}),
      });
    } catch (error) {
      return { call: toCallDto(await this.settleFailedIntent(intent, error)), accepted: true };
    }
    const completed = await completeWithRetries(() => this.records.completeIntent(intent.id, snapshot, 'api'), {
      resource: 'call',
      record_id: intent.id,
      sid: snapshot.sid,
    });
    if (completed) return { call: toCallDto(completed), accepted: false };
    // Twilio placed the call; the row is completed later by its callbacks or by reconciliation
    return { call: { ...toCallDto(intent), sid: snapshot.sid, status: snapshot.status }, accepted: true };
  }

  /**
   * Twilio did not answer with a call: a refusal removes the intent and is rethrown; an outcome we
   * cannot know leaves the intent `unknown` for reconciliation and is returned.
   */
  private async settleFailedIntent(intent: CallRecordEntity, error: unknown): Promise<CallRecordEntity> {
    if (!twilioMayHaveActed(error)) {
      await this.records.forgetIntent(intent.id);
      throw error;
    }
    appLogger().event('warn', 'call_outcome_unknown', {
      record_id: intent.id,
      error: error instanceof Error ? error.message : String(error),
    });
    await this.records.markIntentUnknown(intent.id).catch(() => undefined);
    return { ...intent, status: 'unknown' };
  }

  /** A page of the history as the JSON text of a CallHistoryDto, written by the database and sent as it is. */
  async getCallHistory(query: CallHistoryQueryDto): Promise<JsonText<CallHistoryDto>> {
    const since = query.since === undefined ? undefined : new Date(query.since);
    const until = query.until === undefined ? undefined : new Date(query.until);
    if (since && until && since.getTime() > until.getTime()) {
      throw AppError.invalidField('since', 'since must not be later than until');
    }
    const page = await this.calls.listPage(
      {
        status: query.status,
        direction: query.direction,
        to: query.to,
        from: query.from,
        agentName: query.agent_name,
        workflowId: query.workflow_id,
        metadata: query.metadata,
        since,
        until,
      },
      decodeCursor(query.cursor),
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    return historyJson<CallHistoryDto>('calls', page);
  }

  /** One call by its Twilio sid or its record id. */
  async getCall(key: string): Promise<CallDto> {
    const { record, timeline } = await this.findCurrent(key);
    return { ...toCallDto(record), timeline: timeline.map(toTimelineEntry), transcript: await this.turns.transcript(record.sid) };
  }

  /**
   * A call by its Twilio sid or its record id, with its timeline; refreshed from Twilio first when it
   * is in flight (or ended without a price) and not heard of recently. Not found: a 404.
   */
  async findCurrent(key: string): Promise<{ record: CallRecordEntity; timeline: TimelineEntry[] }> {
    let record = await this.findOrFail(key);
    if (this.needsRefresh(record)) record = (await this.refresh(record)) ?? record;
    const timeline = record.sid ? await this.calls.timeline(record.sid) : [];
    return { record, timeline };
  }

  /**
   * Records the hangup request, then asks Twilio to end the call, then stores what Twilio answered.
   * `accepted` is true when Twilio ended the call but its answer could not be stored yet (the
   * callbacks and reconciliation store it).
   */
  async hangupCall(key: string, requestedBy: string): Promise<{ call: CallDto; accepted: boolean }> {
    const record = await this.findOrFail(key);
    const sid = record.sid;
    if (!sid) {
      throw new AppError(
        HttpStatus.CONFLICT,
        'conflict',
        `Call ${record.id} has no Twilio sid yet (status ${record.status}); it can be hung up once Twilio has confirmed it`,
      );
    }
    if (isTerminalCallStatus(record.status)) throw alreadyEnded(sid, record.status);
    // a request that cannot be recorded is refused (503) before Twilio is asked: the call keeps running
    const requestedAt = new Date();
    await storeIntent(() => this.calls.recordHangupRequest(record.id, requestedBy, requestedAt));
    const asked: CallRecordEntity = { ...record, hangupRequestedAt: requestedAt, hangupRequestedBy: requestedBy };
    let requested: 'completed' | 'canceled' = record.status === 'in-progress' ? 'completed' : 'canceled';
    let snapshot: CallSnapshot;
    try {
      snapshot = await this.twilio.endCall(sid, requested);
      // Canceling only stops a call that has not been answered; ours may have been answered meanwhile.
      if (requested === 'canceled' && snapshot.status === 'in-progress') {
        requested = 'completed';
        snapshot = await this.twilio.endCall(sid, requested);
      }
    } catch (error) {
      if (!twilioMayHaveActed(error)) await this.calls.clearHangupRequest(record.id, requestedAt).catch(() => undefined);
      if (!(error instanceof TwilioGatewayError) || error.kind !== 'invalid_request') throw error;
      const fresh = await this.refresh(record);
      if (fresh && isTerminalCallStatus(fresh.status)) throw alreadyEnded(sid, fresh.status);
      throw error;
    }
    const updated = await completeWithRetries(() => this.calls.applyObservation(sid, callFactsOfSnapshot(snapshot), 'api'), {
      resource: 'call',
      record_id: record.id,
      sid,
    });
    if (endedOnItsOwn(requested, snapshot)) {
      // our request did not end it: the record must not say it was ended through the API
      await this.calls.clearHangupRequest(record.id, requestedAt).catch(() => undefined);
      throw alreadyEnded(sid, updated?.status ?? snapshot.status);
    }
    if (updated) return { call: toCallDto(updated), accepted: false };
    // Twilio is ending the call; its callbacks or reconciliation store that
    return { call: { ...toCallDto(asked), status: snapshot.status }, accepted: true };
  }

  /**
   * Speaks `text` on a live call now, through a live-call TwiML update. A call with an assistant
   * then listens again (the text joins its transcript); a call without one ends after the text,
   * since Twilio cannot resume the TwiML the update interrupted.
   */
  async sayOnCall(key: string, input: SayOnCallDto): Promise<CallDto> {
    let record = await this.findOrFail(key);
    // a callback saying it was answered may still be on its way
    if (record.sid && !isTerminalCallStatus(record.status) && record.status !== 'in-progress')
      record = (await this.refresh(record)) ?? record;
    if (!record.sid || record.status !== 'in-progress') {
      throw new AppError(
        HttpStatus.CONFLICT,
        'conflict',
        `Call ${record.sid ?? record.id} is not live (status ${record.status}); only an answered call in progress can be spoken to`,
      );
    }
    const sid = record.sid;
    const assistant = record.assistantId ? await this.assistants.find(record.assistantId) : null;
    let twiml: string;
    if (assistant) {
      const progress = await this.turns.progress(sid);
      twiml = conversationTwiml(assistant, {
        say: input.text,
        voice: input.voice,
        then: { kind: 'listen', actionUrl: gatherActionUrl(this.config.twilio, progress.lastStep + 1) },
      });
    } else {
      twiml = placedCallTwiml(
        {
          message: input.text,
          voice: input.voice ?? record.voice ?? DEFAULT_VOICE,
          language: record.language ?? DEFAULT_LANGUAGE,
        },
        this.config.twilio,
      );
    }
    try {
      await this.twilio.redirectCall(sid, twiml);
    } catch (error) {
      // Twilio refuses to update a call that has ended meanwhile
      if (error instanceof TwilioGatewayError && error.kind === 'invalid_request') {
        const fresh = await this.refresh(record);
        if (fresh && isTerminalCallStatus(fresh.status)) throw alreadyEnded(sid, fresh.status);
      }
      throw error;
    }
    await this.noteServedTwiml(sid, twiml);
    if (assistant) await this.turns.append(sid, { role: 'assistant', text: input.text });
    return toCallDto(record);
  }

  /**
   * Transfers a live call: records the request, then has Twilio run `<Dial>` to the number on the
   * call (the answering party hears the whisper first); the Dial action later stores how it went.
   */
  async transferCall(key: string, request: TransferCallDto, requestedBy: string): Promise<CallDto> {
    let record = await this.findOrFail(key);
    // a callback saying it was answered may still be on its way
    if (record.sid && !isTerminalCallStatus(record.status) && record.status !== 'in-progress')
      record = (await this.refresh(record)) ?? record;
    const sid = record.sid;
    if (!sid || record.status !== 'in-progress') throw notLive(record);
    const to = normalizeE164(request.to) ?? request.to;
    const callerId = request.caller_id ?? (record.direction === 'inbound' ? record.toNumber : record.fromNumber);
    const whisper = request.whisper ?? null;
    // a request that cannot be recorded is refused (503) before Twilio is asked: the call goes on as it was
    const requestedAt = new Date();
    const stored = await storeIntent(() =>
      this.calls.recordTransferRequest(record.id, { to, whisper, callerId, by: requestedBy, at: requestedAt }),
    );
    if (!stored) {
      throw new AppError(
        HttpStatus.CONFLICT,
        'transfer_in_progress',
        `Call ${sid} is being transferred already; its outcome shows in transfer.status`,
      );
    }
    const ours = { record_id: record.id };
    const webhookBase = this.config.twilio;
    const twiml = transferTwiml({
      to,
      callerId,
      actionUrl: twilioCallbackUrl(webhookBase, '/transfer', ours),
      whisperUrl: whisper ? twilioCallbackUrl(webhookBase, '/whisper', ours) : null,
    });
    let snapshot: CallSnapshot;
    try {
      snapshot = await this.twilio.redirectCall(sid, twiml);
    } catch (error) {
      if (!twilioMayHaveActed(error)) await this.calls.clearTransferRequest(record.id, requestedAt).catch(() => undefined);
      if (!(error instanceof TwilioGatewayError) || error.kind !== 'invalid_request') throw error;
      // Twilio refuses to modify a call that is no longer in progress
      const fresh = await this.refresh(record);
      if (fresh && fresh.status !== 'in-progress') throw notLive(fresh);
      throw error;
    }
    // no note of the Dial here: the transfer request cleared it, and its action may already have set it
    await this.calls.recordTransferring(sid, requestedAt).catch((error: unknown) =>
      appLogger().event('warn', 'call_timeline_not_stored', {
        call_sid: sid,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    const updated = await completeWithRetries(() => this.calls.applyObservation(sid, callFactsOfSnapshot(snapshot), 'api'), {
      resource: 'call',
      record_id: record.id,
      sid,
    });
    const asked: CallRecordEntity = {
      ...record,
      transferTo: to,
      transferWhisper: whisper,
      transferCallerId: callerId,
      transferRequestedAt: requestedAt,
      transferRequestedBy: requestedBy,
      transferStatus: 'requested',
      transferCallSid: null,
      transferDurationSeconds: null,
    };
    return toCallDto(updated ?? asked);
  }

  /** The TwiML the call runs: exactly one of message, audio_url, twiml and assistant_id (a conversation: null, served later). */
  private twimlFor(request: PlaceCallDto, voice: string, language: string): string | null {
    const given = CONTENT_FIELDS.filter((field) => request[field] !== undefined);
    if (given.length !== 1) {
      const message =
        given.length === 0
          ? 'One of message, audio_url, twiml or assistant_id is required'
          : `Only one of message, audio_url, twiml or assistant_id may be given (got ${given.join(', ')})`;
      throw new AppError(
        HttpStatus.BAD_REQUEST,
        'validation_failed',
        message,
        (given.length ? given : CONTENT_FIELDS).map((field) => ({ field, message })),
      );
    }
    if (request.assistant_id !== undefined) {
      // the assistant's voice and language apply to everything it says
      for (const field of ['voice', 'language'] as const) {
        if (request[field] !== undefined)
          throw AppError.invalidField(field, `${field} is the assistant's; it cannot be given with assistant_id`);
      }
      return null;
    }
    if (request.twiml !== undefined) {
      const problem = twimlProblem(request.twiml);
      if (problem) throw AppError.invalidField('twiml', problem);
      return request.twiml;
    }
    if (request.audio_url !== undefined) {
      const document = placedCallTwiml({ audioUrl: request.audio_url, voicemailMessage: request.voicemail_message }, this.config.twilio);
      if (document.length > MAX_TWIML_LENGTH) throw AppError.invalidField('audio_url', 'audio_url is too long');
      return document;
    }
    return placedCallTwiml({ message: request.message, voice, language, voicemailMessage: request.voicemail_message }, this.config.twilio);
  }

  /** Twilio runs `twiml` on the call now: noted for the report's ended_by; a failed note must not undo what Twilio did. */
  private async noteServedTwiml(sid: string, twiml: string): Promise<void> {
    await this.records.noteServedTwiml(sid, twiml).catch((error: unknown) =>
      appLogger().event('warn', 'call_twiml_end_not_stored', {
        call_sid: sid,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }

  private async findOrFail(key: string): Promise<CallRecordEntity> {
    const record = RECORD_ID_PATTERN.test(key) ? await this.calls.findById(key) : await this.calls.findBySid(key);
    if (!record) throw AppError.notFound('Call', key);
    return record;
  }

  /**
   * In flight, or ended without a price yet (status callbacks never carry one) and created within a day; and not
   * compared with Twilio for refreshAfterSeconds.
   */
  private needsRefresh(record: CallRecordEntity): boolean {
    if (!record.sid) return false;
    const now = Date.now();
    if (isTerminalCallStatus(record.status) && (record.price !== null || now - record.createdAt.getTime() > PRICE_WAIT_MS)) return false;
    const lastSeen = (record.syncedAt ?? record.createdAt).getTime();
    return now - lastSeen >= this.config.calls.refreshAfterSeconds * 1000;
  }

  /** Asks Twilio for the call and applies the answer; null when Twilio could not tell. */
  private async refresh(record: CallRecordEntity): Promise<CallRecordEntity | null> {
    if (!record.sid) return null;
    try {
      const snapshot = await this.twilio.fetchCall(record.sid);
      return await this.calls.applyObservation(record.sid, callFactsOfSnapshot(snapshot), 'refresh');
    } catch (error) {
      appLogger().event('warn', 'call_refresh_failed', {
        call_sid: record.sid,
        error: error instanceof Error ? error.message : String(error),
      });
      return null;
    }
  }
}

function notLive(record: CallRecordEntity): AppError {
  const what = record.sid ? `Call ${record.sid}` : `Call ${record.id}`;
  return new AppError(
    HttpStatus.CONFLICT,
    'call_not_live',
    `${what} is not live (status ${record.status}); only an answered call in progress can be controlled`,
  );
}

function alreadyEnded(sid: string, status: string): AppError {
  return new AppError(HttpStatus.CONFLICT, 'call_already_ended', `Call ${sid} has already ended (status ${status})`);
}

/** Twilio reports an end we did not ask for: the call finished before our hangup reached it. */
function endedOnItsOwn(requested: 'completed' | 'canceled', snapshot: CallSnapshot): boolean {
  return isTerminalCallStatus(snapshot.status) && snapshot.status !== requested;
}
