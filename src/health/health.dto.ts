import { ApiProperty } from '@nestjs/swagger';
import { WebhookHealthDto } from '../webhooks/webhooks.dto';

/** The database, as the service sees it. */
export class DatabaseHealthDto {
  /** `up` when a query answered in time. */
  @ApiProperty({ enum: ['up', 'down'] })
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
  @ApiProperty({ enum: ['up', 'down'] })
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
