import type { TimelineEntry } from '../timeline/timeline.service';
import type { CallRecordEntity } from './call-record.entity';
import { CallDto, CallTimelineEntryDto, CallTransferDto } from './calls.dto';

export function toCallDto(record: CallRecordEntity): CallDto {
  return {
    id: record.id,
    sid: record.sid,
    direction: record.direction,
    from: record.fromNumber,
    to: record.toNumber,
    status: record.status,
    message: record.message,
    audio_url: record.audioUrl,
    twiml: record.twiml,
    voice: record.voice,
    language: record.language,
    record: record.record,
    agent_name: record.agentName,
    call_purpose: record.callPurpose,
    workflow_id: record.workflowId,
    metadata: record.metadata ?? {},
    assistant_id: record.assistantId ?? null,
    created_by: record.createdBy,
    start_time: record.startTime,
    end_time: record.endTime,
    duration: record.durationSeconds,
    price: record.price,
    price_unit: record.priceUnit,
    answered_by: record.answeredBy,
    queue_time_ms: record.queueTimeMs,
    error_code: record.errorCode,
    error_message: record.errorMessage,
    hangup_requested_at: record.hangupRequestedAt,
    hangup_requested_by: record.hangupRequestedBy,
    voicemail_message: record.voicemailMessage,
    voicemail_left_at: record.voicemailLeftAt,
    transfer: toTransferDto(record),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function toTransferDto(record: CallRecordEntity): CallTransferDto | null {
  if (!record.transferRequestedAt || !record.transferTo || !record.transferStatus) return null;
  return {
    to: record.transferTo,
    whisper: record.transferWhisper,
    caller_id: record.transferCallerId,
    status: record.transferStatus as CallTransferDto['status'],
    requested_at: record.transferRequestedAt,
    requested_by: record.transferRequestedBy,
    call_sid: record.transferCallSid,
    duration: record.transferDurationSeconds,
  };
}

export function toTimelineEntry(event: TimelineEntry): CallTimelineEntryDto {
  return {
    status: event.status as CallTimelineEntryDto['status'],
    sequence_number: event.sequenceNumber,
    source: event.source,
    occurred_at: event.occurredAt,
    error_code: event.errorCode,
  };
}
