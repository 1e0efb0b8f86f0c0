import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { decodeCursor, historyJson } from '../common/cursor';
import { twilioCallbackUrl } from '../common/twilio-callback-url';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { GuardrailsService } from '../guardrails/guardrails.service';
import type { TimelineEntry } from '../timeline/timeline.service';
import { completeWithRetries, storeIntent } from '../common/intent';
import { RECORD_ID_PATTERN } from '../common/intent-status';
import { twilioMayHaveActed } from '../twilio/twilio.errors';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { MessageSnapshot, isTerminalMessageStatus } from '../twilio/twilio.types';
import { messageFactsOfSnapshot } from './message-observation';
import { MessageRecordEntity } from './message-record.entity';
import { MessageRecordRepository } from './message-record.repository';
import { Json, JsonText, parseJsonText } from '../common/json-columns';
import { MessageRecordsService } from './message-records.service';
import { OptOutsService } from './opt-outs.service';
import { countSmsSegments } from './sms-segments';
import { MessageDto, MessageHistoryDto, MessageTimelineEntryDto, SendSmsDto, SmsHistoryQueryDto } from './sms.dto';

const DEFAULT_PAGE_SIZE = 20;
/** How long after its creation a record without a price is still worth asking Twilio about on reads. */
const PRICE_WAIT_MS = 24 * 3600 * 1000;

@Injectable()
export class SmsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly twilio: TwilioGateway,
    private readonly messages: MessageRecordRepository,
    private readonly records: MessageRecordsService,
    private readonly optOuts: OptOutsService,
    private readonly guardrails: GuardrailsService,
  ) {}

  /**
   * Stores the request, then asks Twilio, then completes the record. `accepted` is true when the
   * record is not complete: Twilio's outcome is unknown (status `unknown`), or its answer is not stored yet.
   */
  async sendSms(request: SendSmsDto, createdBy: string): Promise<{ message: MessageDto; accepted: boolean }> {
    if (await this.optOuts.isOptedOut(request.to)) {
      throw AppError.invalidField('to', `${request.to} has opted out of messages from this service`, 'recipient_opted_out');
    }
    const from = request.from ?? this.config.twilio.phoneNumber;
    const mediaUrls = request.media_url ?? [];
    // within the spending ceiling: stored by the statement that counts it in
    const intent = await this.guardrails.admitStored({ kind: 'sms', segments: countSmsSegments(request.message) }, (gate) =>
      storeIntent(() =>
        this.records.createIntent(
          {
            direction: 'outbound',
            fromNumber: from,
            toNumber: request.to,
            body: request.message ?? '',
            mediaUrls,
            agentName: request.agent_name ?? null,
            metadata: request.metadata ?? {},
            createdBy,
          },
          gate,
        ),
      ),
    );
    let snapshot: MessageSnapshot;
    try {
      snapshot = await this.twilio.sendMessage({
        to: request.to,
        from,
        body: request.message,
        mediaUrls,
        // the record id lets the callbacks find this row before it has a sid
        statusCallbackUrl: twilioCallbackUrl(this.config.twilio, '/status', { record_id: intent.id }),
      });
    } catch (error) {
      return { message: toMessageDto(await this.settleFailedIntent(intent, error)), accepted: true };
    }
    const completed = await completeWithRetries(() => this.records.completeIntent(intent.id, snapshot, 'api'), {
      resource: 'message',
      record_id: intent.id,
      sid: snapshot.sid,
    });
    if (completed) return { message: toMessageDto(completed), accepted: false };
    // Twilio took the message; the row is completed later by its callbacks or by reconciliation
    return { message: { ...toMessageDto(intent), sid: snapshot.sid, status: snapshot.status }, accepted: true };
  }

  /**
   * Twilio did not answer with a message: a refusal removes the intent and is rethrown; an outcome
   * we cannot know leaves the intent `unknown` for reconciliation and is returned.
   */
  private async settleFailedIntent(intent: MessageRecordEntity, error: unknown): Promise<MessageRecordEntity> {
    if (!twilioMayHaveActed(error)) {
      await this.records.forgetIntent(intent.id);
      throw error;
    }
    appLogger().event('warn', 'message_outcome_unknown', {
      record_id: intent.id,
      error: error instanceof Error ? error.message : String(error),
    });
    await this.records.markIntentUnknown(intent.id).catch(() => undefined);
    return { ...intent, status: 'unknown' };
  }

  /** A page of the history as the JSON text of a MessageHistoryDto, written by the database and sent as it is. */
  async getSmsHistory(query: SmsHistoryQueryDto): Promise<JsonText<MessageHistoryDto>> {
    const since = query.since === undefined ? undefined : new Date(query.since);
    const until = query.until === undefined ? undefined : new Date(query.until);
    if (since && until && since.getTime() > until.getTime()) {
      throw AppError.invalidField('since', 'since must not be later than until');
    }
    const page = await this.messages.listPage(
      {
        status: query.status,
        direction: query.direction,
        to: query.to,
        from: query.from,
        agentName: query.agent_name,
        metadata: query.metadata,
        since,
        until,
      },
      decodeCursor(query.cursor),
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    return historyJson<MessageHistoryDto>('messages', page);
  }

  /** The latest `limit` messages between our number and theirs, both ways, oldest first: an SMS conversation's transcript. */
  async thread(ours: string, theirs: string, limit: number): Promise<Json<MessageDto>[]> {
    const [received, sent] = await Promise.all([
      this.messages.listPage({ from: theirs, to: ours }, null, limit),
      this.messages.listPage({ from: ours, to: theirs }, null, limit),
    ]);
    // created_at is ISO 8601 in UTC with a fixed width, so text order is time order
    return [...received.items, ...sent.items]
      .map(parseJsonText)
      .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0))
      .slice(-limit);
  }

  /** One message by its Twilio sid or its record id. */
  async getSms(key: string): Promise<MessageDto> {
    let record = RECORD_ID_PATTERN.test(key) ? await this.messages.findById(key) : await this.messages.findBySid(key);
    if (!record) throw AppError.notFound('Message', key);
    if (this.needsRefresh(record)) record = (await this.refresh(record)) ?? record;
    const timeline = record.sid ? await this.messages.timeline(record.sid) : [];
    return { ...toMessageDto(record), timeline: timeline.map(toTimelineEntry) };
  }

  /**
   * In flight, or ended without a price yet (status callbacks never carry one) and created within a day; and not
   * compared with Twilio for refreshAfterSeconds.
   */
  private needsRefresh(record: MessageRecordEntity): boolean {
    if (!record.sid) return false;
    const now = Date.now();
    if (isTerminalMessageStatus(record.status) && (record.price !== null || now - record.createdAt.getTime() > PRICE_WAIT_MS)) return false;
    const lastSeen = (record.syncedAt ?? record.createdAt).getTime();
    return now - lastSeen >= this.config.calls.refreshAfterSeconds * 1000;
  }

  /** Asks Twilio for the message and applies the answer; null when Twilio could not tell. */
  private async refresh(record: MessageRecordEntity): Promise<MessageRecordEntity | null> {
    if (!record.sid) return null;
    try {
      const snapshot = await this.twilio.fetchMessage(record.sid);
      return await this.messages.applyObservation(record.sid, messageFactsOfSnapshot(snapshot), 'refresh');
    } catch (error) {
      appLogger().event('warn', 'message_refresh_failed', {
        message_sid: record.sid,
        error: error instanceof Error ? error.message : String(error),
      });
      return null;
    }
  }
}

export function toMessageDto(record: MessageRecordEntity): MessageDto {
  return {
    id: record.id,
    sid: record.sid,
    direction: record.direction,
    from: record.fromNumber,
    to: record.toNumber,
    body: record.body,
    segments: record.segments,
    media_urls: record.mediaUrls ?? [],
    status: record.status,
    agent_name: record.agentName,
    metadata: record.metadata ?? {},
    created_by: record.createdBy,
    error_code: record.errorCode,
    error_message: record.errorMessage,
    price: record.price,
    price_unit: record.priceUnit,
    sent_at: record.sentAt,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function toTimelineEntry(event: TimelineEntry): MessageTimelineEntryDto {
  return {
    status: event.status as MessageTimelineEntryDto['status'],
    sequence_number: event.sequenceNumber,
    source: event.source,
    occurred_at: event.occurredAt,
    error_code: event.errorCode,
  };
}
