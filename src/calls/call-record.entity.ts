import type { TwimlEnd } from './call-report';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { IntentStatus } from '../common/intent-status';
import type { Metadata } from '../common/metadata';
import type { CallStatus, Direction } from '../twilio/twilio.types';

export type CallRecordStatus = CallStatus | IntentStatus;

@Entity('call_records')
@Index('idx_call_records_set_aside', ['reconcileSetAsideAt'], { where: 'reconcile_set_aside_at IS NOT NULL' })
@Index('idx_call_records_created', ['createdAt', 'id'])
@Index('idx_call_records_updated', ['updatedAt'])
@Index('idx_call_records_status_created', ['status', 'createdAt', 'id'])
@Index('idx_call_records_to_created', ['toNumber', 'createdAt', 'id'])
@Index('idx_call_records_from_created', ['fromNumber', 'createdAt', 'id'])
@Index('idx_call_records_agent_created', ['agentName', 'createdAt', 'id'])
@Index('idx_call_records_workflow_created', ['workflowId', 'createdAt', 'id'])
@Index('idx_call_records_direction_created', ['direction', 'createdAt', 'id'])
// GIN (jsonb_path_ops) for the history filter `metadata @> $1`; the migration builds it: TypeORM cannot name an operator class
@Index('idx_call_records_metadata', { synchronize: false })
@Index('idx_call_records_unresolved', ['toNumber', 'createdAt'], { where: 'sid IS NULL' })
@Index('idx_call_records_report_pending', ['updatedAt'], { where: 'report_ready_at IS NULL' })
export class CallRecordEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('uq_call_records_sid', { unique: true })
  /** Twilio's sid; null while the request has no answer from Twilio (status initiating or unknown). */
  @Column({ type: 'varchar', length: 34, nullable: true })
  sid: string | null;

  @Column({ type: 'varchar', length: 16 })
  direction: Direction;

  @Column({ name: 'from_number', type: 'varchar', length: 32 })
  fromNumber: string;

  @Column({ name: 'to_number', type: 'varchar', length: 32 })
  toNumber: string;

  @Column({ type: 'varchar', length: 16 })
  status: CallRecordStatus;

  /** Highest SequenceNumber of a status callback applied so far; -1 before any. */
  @Column({ name: 'status_sequence', type: 'integer', default: -1 })
  statusSequence: number;

  @Column({ type: 'text', nullable: true })
  message: string | null;

  @Column({ name: 'audio_url', type: 'text', nullable: true })
  audioUrl: string | null;

  @Column({ type: 'text', nullable: true })
  twiml: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  voice: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  language: string | null;

  @Column({ type: 'boolean', default: false })
  record: boolean;

  @Column({ name: 'machine_detection', type: 'boolean', default: false })
  machineDetection: boolean;

  @Column({ name: 'timeout_seconds', type: 'integer', nullable: true })
  timeoutSeconds: number | null;

  @Column({ name: 'agent_name', type: 'varchar', length: 200, nullable: true })
  agentName: string | null;

  /** The client's own labels, string keys to string values; {} when none were given (inbound, adopted). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Metadata;

  @Column({ name: 'call_purpose', type: 'varchar', length: 200, nullable: true })
  callPurpose: string | null;

  @Column({ name: 'workflow_id', type: 'varchar', length: 200, nullable: true })
  workflowId: string | null;

  /** The assistant holding a conversation on the call (placed with assistant_id, or inbound to its number). */
  @Column({ name: 'assistant_id', type: 'uuid', nullable: true })
  assistantId: string | null;

  /** JWT subject of whoever placed the call; null for inbound calls. */
  @Column({ name: 'created_by', type: 'varchar', length: 200, nullable: true })
  createdBy: string | null;

  @Column({ name: 'start_time', type: 'timestamptz', nullable: true })
  startTime: Date | null;

  @Column({ name: 'end_time', type: 'timestamptz', nullable: true })
  endTime: Date | null;

  @Column({ name: 'duration_seconds', type: 'integer', nullable: true })
  durationSeconds: number | null;

  @Column({ type: 'numeric', precision: 12, scale: 5, nullable: true })
  price: string | null;

  @Column({ name: 'price_unit', type: 'varchar', length: 3, nullable: true })
  priceUnit: string | null;

  @Column({ name: 'answered_by', type: 'varchar', length: 32, nullable: true })
  answeredBy: string | null;

  @Column({ name: 'queue_time_ms', type: 'integer', nullable: true })
  queueTimeMs: number | null;

  @Column({ name: 'error_code', type: 'integer', nullable: true })
  errorCode: number | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  /**
   * When POST calls/{sid}/hangup asked for the call to end (stored before Twilio is asked); cleared
   * when Twilio refused or says the call had ended on its own. The report's ended_by `api` reads it.
   */
  @Column({ name: 'hangup_requested_at', type: 'timestamptz', nullable: true })
  hangupRequestedAt: Date | null;

  /**
   * Who ends the call if it completes while the TwiML we served last is running: `api` (it hangs up
   * or runs out), `timeout` (a conversation limit hung up), `remote` (it waits for the other party's
   * input, so a completion means they hung up). Null when we served none we could judge.
   */
  @Column({ name: 'twiml_ends_as', type: 'varchar', length: 8, nullable: true })
  twimlEndsAs: TwimlEnd | null;

  /** Token subject that asked for the hangup. */
  @Column({ name: 'hangup_requested_by', type: 'varchar', length: 200, nullable: true })
  hangupRequestedBy: string | null;

  /**
   * Spoken to an answering machine after its beep (POST call's voicemail_message); the call is then
   * placed with asynchronous answering-machine detection.
   */
  @Column({ name: 'voicemail_message', type: 'text', nullable: true })
  voicemailMessage: string | null;

  /** When the voicemail message was handed to the live call, once (repeated AMD callbacks find it set). */
  @Column({ name: 'voicemail_left_at', type: 'timestamptz', nullable: true })
  voicemailLeftAt: Date | null;

  /** Number POST calls/{sid}/transfer dials (stored before Twilio is asked; cleared when Twilio refused). */
  @Column({ name: 'transfer_to', type: 'varchar', length: 32, nullable: true })
  transferTo: string | null;

  /** Text spoken to the transfer target before it is connected. */
  @Column({ name: 'transfer_whisper', type: 'text', nullable: true })
  transferWhisper: string | null;

  @Column({ name: 'transfer_caller_id', type: 'varchar', length: 32, nullable: true })
  transferCallerId: string | null;

  @Column({ name: 'transfer_requested_at', type: 'timestamptz', nullable: true })
  transferRequestedAt: Date | null;

  @Column({ name: 'transfer_requested_by', type: 'varchar', length: 200, nullable: true })
  transferRequestedBy: string | null;

  /** `requested` until the Dial action reports Twilio's DialCallStatus (completed, answered, busy, no-answer, failed, canceled). */
  @Column({ name: 'transfer_status', type: 'varchar', length: 16, nullable: true })
  transferStatus: string | null;

  /** The leg Twilio dialed to the transfer target (DialCallSid). */
  @Column({ name: 'transfer_call_sid', type: 'varchar', length: 34, nullable: true })
  transferCallSid: string | null;

  /** Talk time of the transferred leg (DialCallDuration). */
  @Column({ name: 'transfer_duration_seconds', type: 'integer', nullable: true })
  transferDurationSeconds: number | null;

  /** Last time the record was compared with Twilio (create, refresh or reconciliation). */
  @Column({ name: 'synced_at', type: 'timestamptz', nullable: true })
  syncedAt: Date | null;

  /** Reconciliation failures about this record in a row (Twilio 404, a local error); reset by a success. */
  @Column({ name: 'reconcile_failures', type: 'integer', default: 0 })
  reconcileFailures: number;

  @Column({ name: 'reconcile_error', type: 'text', nullable: true })
  reconcileError: string | null;

  /** Set when reconciliation failed too often about this record: it is no longer claimed. */
  @Column({ name: 'reconcile_set_aside_at', type: 'timestamptz', nullable: true })
  reconcileSetAsideAt: Date | null;

  /** When the end-of-call report was settled and marked ready, once (call.report.ready goes with it). */
  @Column({ name: 'report_ready_at', type: 'timestamptz', nullable: true })
  reportReadyAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
