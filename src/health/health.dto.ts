import { ApiProperty } from '@nestjs/swagger';
import { WebhookHealthDto } from '../webhooks/webhooks.dto';

/** The database, as the service sees it. */
export class DatabaseHealthDto {
  /** `up` when a query answered in time. */
  @ApiProperty({ enum: ['up', 'down'], enumName: 'ProbeStatus' })
  status: 'up' | 'down';
  /** Round trip of `SELECT 1`, in milliseconds. @example 2 */
  latency_ms: number;
  /** Real Postgres (DATABASE_URL) or the embedded PGlite. */
  @ApiProperty({ enum: ['postgres', 'pglite'] })
  driver: 'postgres' | 'pglite';
  /** Why it is down. @example timeout of 1000ms exceeded */
  error?: string;
}

/** Twilio (or the sandbox), as the service sees it. */
export class TwilioHealthDto {
  /** `up` when Twilio answered the account lookup in time. */
  @ApiProperty({ enum: ['up', 'down'], enumName: 'ProbeStatus' })
  status: 'up' | 'down';
  /** Whether Twilio answered at all (it may answer and still refuse, e.g. bad credentials). */
  reachable: boolean;
  /** The in-process sandbox or a real Twilio host. */
  @ApiProperty({ enum: ['sandbox', 'live'] })
  mode: 'sandbox' | 'live';
  /** The Twilio REST host in use. @example https://api.twilio.com */
  base_url: string;
  /** The account's status at Twilio (`active`, `suspended`, `closed`); null when unknown. @example active */
  account_status: string | null;
  /** Round trip of the account lookup, in milliseconds. @example 85 */
  latency_ms: number;
  /** Why it is down. @example Twilio did not answer in time */
  error?: string;
}

/** The oldest thing set aside, with why. */
export class SetAsideItemDto {
  @ApiProperty({ enum: ['inbox_event', 'call', 'message'] })
  resource: 'inbox_event' | 'call' | 'message';
  /** The inbox event's id, or the call's or message's sid. */
  id: string;
  /** The CallSid, MessageSid or RecordingSid it is about. @example CA0123456789abcdef0123456789abcdef */
  sid: string;
  /** The last failure. @example "TwilioGatewayError: The requested resource was not found" */
  reason: string;
  /** When it was set aside (ISO 8601). */
  set_aside_at: string;
}

/** What failed too often and was set aside (stored counts, all instances). */
export class SetAsideHealthDto {
  /** Inbox events whose apply kept failing. @example 0 */
  inbox_events: number;
  /** Calls whose reconciliation kept failing for a reason about the call (e.g. Twilio 404). @example 0 */
  calls: number;
  /** Messages whose reconciliation kept failing for a reason about the message. @example 0 */
  messages: number;
  /** The oldest of them; null when nothing is set aside. */
  oldest: SetAsideItemDto | null;
}

/**
 * Service health. Anyone gets `status`; a token holding phone:view also gets the details.
 * Answered with 503 when the database or Twilio is down.
 */
export class HealthDto {
  /** `ok`, or `error` when a dependency is down. */
  @ApiProperty({ enum: ['ok', 'error'] })
  status: 'ok' | 'error';
  /** Only for phone:view. */
  database?: DatabaseHealthDto;
  /** Only for phone:view. */
  twilio?: TwilioHealthDto;
  /** Service version (package.json). Only for phone:view. @example 0.1.0 */
  version?: string;
  /** Seconds since the service started. Only for phone:view. @example 3600 */
  uptime_seconds?: number;
  /** Webhook counters of this instance (signature rejections, duplicates, deferred callbacks). */
  webhooks?: WebhookHealthDto;
  /** What was set aside after failing too often. Only for phone:view; absent when the database cannot tell. */
  set_aside?: SetAsideHealthDto;
}

/** Liveness: the process is up and serving HTTP. Never depends on the database or Twilio. */
export class LivenessDto {
  /** Always `ok` when the process answers. @example ok */
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}

/** Readiness: this instance should get traffic (database reachable, not shutting down). */
export class ReadinessDto {
  /** `ok`, or `error` (answered with 503) when the database is down or the instance is draining. @example ok */
  @ApiProperty({ enum: ['ok', 'error'] })
  status: 'ok' | 'error';
  /** `up` when `SELECT 1` answered within the short timeout. @example up */
  @ApiProperty({ enum: ['up', 'down'] })
  database: 'up' | 'down';
  /** True once SIGTERM/SIGINT was received: the instance finishes its work and exits. */
  draining: boolean;
}
