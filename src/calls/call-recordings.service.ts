import { Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { RECORD_ID_PATTERN } from '../common/intent-status';
import { CallRecordRepository } from './call-record.repository';
import { RecordingDto, RecordingListDto } from './calls.dto';
import { RecordingEntity } from './recording.entity';
import { RecordingRepository } from './recording.repository';

@Injectable()
export class CallRecordingsService {
  constructor(
    private readonly calls: CallRecordRepository,
    private readonly recordings: RecordingRepository,
  ) {}

  /** The recordings of a call named by its sid or its record id; a call without a sid yet has none. */
  async listRecordings(key: string): Promise<RecordingListDto> {
    const call = RECORD_ID_PATTERN.test(key) ? await this.calls.findById(key) : await this.calls.findBySid(key);
    if (!call) throw AppError.notFound('Call', key);
    const rows = call.sid ? await this.recordings.listByCall(call.sid) : [];
    return { recordings: rows.map(toRecordingDto) };
  }
}

export function toRecordingDto(r: RecordingEntity): RecordingDto {
  return {
    sid: r.sid,
    call_sid: r.callSid,
    url: r.url,
    status: r.status,
    duration: r.durationSeconds,
    channels: r.channels,
    source: r.source,
    started_at: r.startedAt ? r.startedAt.toISOString() : null,
    created_at: r.createdAt.toISOString(),
  };
}
