import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { Permission } from '../auth/permission';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { SetAsideService } from '../webhooks/set-aside.service';
import { WebhookMetricsService } from '../webhooks/webhook-metrics.service';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { HealthDto, ReadinessDto, SetAsideHealthDto } from './health.dto';
import { TwilioHealthIndicator } from './twilio.health';

export const DATABASE_TIMEOUT_MS = 1000;
export const TWILIO_TIMEOUT_MS = 3000;

interface Detail {
  status: string;
  responseTime?: number;
  message?: string;
  [key: string]: unknown;
}

@Injectable()
export class HealthService {
  private readonly startedAt = Date.now();
  private lastStatus: HealthDto['status'] = 'ok';

  constructor(
    private readonly database: TypeOrmHealthIndicator,
    private readonly twilio: TwilioHealthIndicator,
    private readonly gateway: TwilioGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly webhooks: WebhookMetricsService,
    private readonly setAside: SetAsideService,
    private readonly shutdown: ShutdownState,
  ) {}

  /** Ready when not draining and the database answers in time; Twilio plays no part. */
  async getReadiness(): Promise<ReadinessDto> {
    const draining = this.shutdown.draining;
    const db = await (this.database.pingCheck('database').withTimeout(DATABASE_TIMEOUT_MS) as PromiseLike<
      HealthIndicatorResult<'database'>
    >);
    const database = (db.database as Detail).status === 'up' ? 'up' : 'down';
    return { status: database === 'up' && !draining ? 'ok' : 'error', database, draining };
  }

  /** Everyone learns ok/error; a caller holding phone:view also sees why. */
  async getHealth(user: AuthenticatedUser | undefined): Promise<HealthDto> {
    const detailed = user?.permissions.has(Permission.View) ?? false;
    const twilioTimeout = Math.min(TWILIO_TIMEOUT_MS, this.config.twilio.requestTimeoutMs);
    const [db, tw, setAside] = await Promise.all([
      this.database.pingCheck('database').withTimeout(DATABASE_TIMEOUT_MS) as PromiseLike<HealthIndicatorResult<'database'>>,
      // every caller shares one cached probe: health checks never turn into a stream of Twilio requests
      this.twilio.check(twilioTimeout, this.config.health.twilioCacheSeconds * 1000),
      detailed ? this.setAsideCounts() : undefined,
    ]);
    const database = db.database as Detail;
    const twilio = tw.twilio as Detail;
    const status = database.status === 'up' && twilio.status === 'up' ? 'ok' : 'error';
    this.logTransition(status, database, twilio);
    if (!detailed) return { status };
    return {
      status,
      database: {
        status: database.status === 'up' ? 'up' : 'down',
        latency_ms: Number(database.responseTime ?? 0),
        driver: this.config.database.url ? 'postgres' : 'pglite',
        ...(database.message ? { error: String(database.message) } : {}),
      },
      twilio: {
        status: twilio.status === 'up' ? 'up' : 'down',
        reachable: twilio.reachable === true,
        mode: this.gateway.target.mode,
        base_url: this.gateway.target.baseUrl,
        account_status: typeof twilio.account_status === 'string' ? twilio.account_status : null,
        latency_ms: Number(twilio.latency_ms ?? 0),
        ...(typeof twilio.error === 'string' ? { error: twilio.error } : {}),
      },
      version: this.config.version,
      uptime_seconds: Math.floor((Date.now() - this.startedAt) / 1000),
      webhooks: this.webhooks.snapshot(),
      ...(setAside ? { set_aside: setAside } : {}),
    };
  }

  /** Undefined when the database cannot answer in time (its own check says why). */
  private async setAsideCounts(): Promise<SetAsideHealthDto | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), DATABASE_TIMEOUT_MS);
    });
    try {
      const counts = await Promise.race([this.setAside.counts(), timeout]);
      if (!counts) return undefined;
      const { oldest } = counts;
      return {
        inbox_events: counts.inboxEvents,
        calls: counts.calls,
        messages: counts.messages,
        oldest: oldest
          ? {
              resource: oldest.resource,
              id: oldest.id,
              sid: oldest.sid,
              reason: oldest.reason,
              set_aside_at: oldest.setAsideAt.toISOString(),
            }
          : null,
      };
    } catch (error) {
      appLogger().event('warn', 'health_set_aside_failed', { error: error instanceof Error ? error.message : String(error) });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private logTransition(status: HealthDto['status'], database: Detail, twilio: Detail): void {
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    appLogger().event(status === 'ok' ? 'info' : 'warn', 'health_changed', {
      status,
      database: database.status,
      database_error: database.message,
      twilio: twilio.status,
      twilio_error: twilio.error,
    });
  }
}
