import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { isIntentStatus } from '../common/intent-status';
import type { CallOutcome, EventType } from '../events/event-types';
import { EventsService } from '../events/events.service';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { isTerminalCallStatus } from '../twilio/twilio.types';
import { CallRecordEntity } from './call-record.entity';
import { CallRecordRepository } from './call-record.repository';
import { CallReportsService } from './call-reports.service';
import { toRecordingDto } from './call-recordings.service';
import { publicApiBaseUrl } from '../common/public-url';
import { RecordingEntity } from './recording.entity';
import { RecordingRepository } from './recording.repository';
import { toCallDto } from './calls.service';

/**
 * The call events a status change means, in lifecycle order. A call first seen past `initiated`
 * (its intent completed late, or a callback overtook the API answer) still reports call.initiated
 * first, so every call's events start the same way.
 */
export function callEventTypes(previous: string | null, next: string): EventType[] {
  if (isIntentStatus(next)) return [];
  const types: EventType[] = [];
  if (previous === null || isIntentStatus(previous)) types.push('call.initiated');
  if (next === 'ringing') types.push('call.ringing');
  else if (next === 'in-progress') types.push('call.answered');
  else if (isTerminalCallStatus(next)) types.push('call.completed');
  return types;
}

/** How a call ended: its final status, or voicemail when a machine answered. */
export function callOutcome(record: Pick<CallRecordEntity, 'status' | 'answeredBy'>): CallOutcome {
  if (record.status === 'completed' && record.answeredBy !== null && /^(machine|fax)/.test(record.answeredBy)) return 'voicemail';
  switch (record.status) {
    case 'completed':
    case 'busy':
    case 'no-answer':
    case 'failed':
    case 'canceled':
      return record.status;
    default:
      return 'failed';
  }
}

/** Writes call, recording and report events into the outbox, in the transaction of each change. */
@Injectable()
export class CallEvents implements OnModuleInit {
  private readonly apiBaseUrl: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly calls: CallRecordRepository,
    private readonly recordings: RecordingRepository,
    private readonly events: EventsService,
    private readonly reports: CallReportsService,
  ) {
    this.apiBaseUrl = publicApiBaseUrl(config.twilio.webhookBaseUrl);
  }

  onModuleInit(): void {
    this.calls.onStatusChanged((tx, record, previous) => this.statusChanged(tx, record, previous));
    this.recordings.onStatusChanged((tx, recording) => this.recordingChanged(tx, recording));
    // once per call, in the transaction that marks its report ready
    this.reports.onReportReady(async (tx, report) => {
      await this.events.record(tx, 'call.report.ready', { type: 'call', id: report.id, sid: report.sid, object: report });
    });
  }

  private async recordingChanged(tx: EntityManager, recording: RecordingEntity): Promise<void> {
    if (recording.status !== 'completed') return;
    await this.events.record(tx, 'call.recording.ready', {
      type: 'recording',
      sid: recording.sid,
      object: toRecordingDto(recording, this.apiBaseUrl),
    });
  }

  private async statusChanged(tx: EntityManager, record: CallRecordEntity, previous: string | null): Promise<void> {
    const resource = { type: 'call', id: record.id, sid: record.sid, object: toCallDto(record) };
    for (const type of callEventTypes(previous, record.status)) {
      await this.events.record(tx, type, resource, type === 'call.completed' ? { outcome: callOutcome(record) } : {});
    }
  }
}
