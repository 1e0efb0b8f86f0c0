import { Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
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

  async listRecordings(callSid: string): Promise<RecordingListDto> {
    if (!(await this.calls.exists(callSid))) throw AppError.notFound('Call', callSid);
    const rows = await this.recordings.listByCall(callSid);
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
