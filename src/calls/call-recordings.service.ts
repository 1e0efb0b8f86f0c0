import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { RECORD_ID_PATTERN } from '../common/intent-status';
import { publicApiBaseUrl, recordingAudioUrl } from '../common/public-url';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CallRecordRepository } from './call-record.repository';
import { RecordingDto, RecordingListDto } from './calls.dto';
import { RecordingEntity } from './recording.entity';
import { RecordingRepository } from './recording.repository';

@Injectable()
export class CallRecordingsService {
  private readonly apiBaseUrl: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly calls: CallRecordRepository,
    private readonly recordings: RecordingRepository,
  ) {
    this.apiBaseUrl = publicApiBaseUrl(config.twilio.webhookBaseUrl);
  }

  /** The recordings of a call named by its sid or its record id; a call without a sid yet has none. */
  async listRecordings(key: string): Promise<RecordingListDto> {
    const call = RECORD_ID_PATTERN.test(key) ? await this.calls.findById(key) : await this.calls.findBySid(key);
    if (!call) throw AppError.notFound('Call', key);
    return { recordings: await this.listOfCall(call.sid) };
  }

  /** A call's recordings in their API form, oldest first. */
  async listOfCall(callSid: string | null): Promise<RecordingDto[]> {
    const rows = callSid ? await this.recordings.listByCall(callSid) : [];
    return rows.map((r) => toRecordingDto(r, this.apiBaseUrl));
  }
}

/** A recording as the API shows it: its audio through this service (`apiBaseUrl`), never Twilio's media URL. */
export function toRecordingDto(r: RecordingEntity, apiBaseUrl: string): RecordingDto {
  return {
    sid: r.sid,
    call_sid: r.callSid,
    url: r.status === 'completed' ? recordingAudioUrl(apiBaseUrl, r.sid) : null,
    status: r.status,
    duration: r.durationSeconds,
    channels: r.channels,
    source: r.source,
    started_at: r.startedAt ? r.startedAt.toISOString() : null,
    created_at: r.createdAt.toISOString(),
  };
}
