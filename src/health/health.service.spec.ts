import { HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { Permission, effectivePermissions } from '../auth/permission';
import type { AppConfig } from '../config/app-config';
import { TwilioGatewayError } from '../twilio/twilio.errors';
import type { TwilioGateway } from '../twilio/twilio.gateway';
import { HealthService } from './health.service';
import { TwilioHealthIndicator } from './twilio.health';
import type { SetAsideService } from '../webhooks/set-aside.service';
import { WebhookMetricsService } from '../webhooks/webhook-metrics.service';
import { MetricsService } from '../metrics/metrics.service';
import { ShutdownState } from '../lifecycle/shutdown-state';

const indicators = new HealthIndicatorService();

function user(...permissions: string[]): AuthenticatedUser {
  return { sub: 'u', permissions: effectivePermissions(permissions) };
}

function setup(options: { dbUp?: boolean; fetchAccount?: () => Promise<unknown>; databaseUrl?: string | null } = {}) {
  // the service chains pingCheck(key).withTimeout(ms)
  const database = {
    pingCheck: vi.fn((key: string) => {
      const result = Promise.resolve(
        options.dbUp === false
          ? indicators.check(key).down({ message: 'connection refused', responseTime: 3 })
          : indicators.check(key).up({ responseTime: 2 }),
      );
      return Object.assign(result, { withTimeout: () => result });
    }),
  };
  const gateway = {
    target: { mode: 'sandbox' as const, baseUrl: 'http://127.0.0.1:9999' },
    fetchAccount: vi.fn(options.fetchAccount ?? (async () => ({ sid: 'AC1', status: 'active', friendlyName: 'x' }))),
  };
  const config = {
    version: '9.9.9',
    database: { url: options.databaseUrl ?? null },
    twilio: { requestTimeoutMs: 15000 },
    health: { twilioCacheSeconds: 30 },
  } as unknown as AppConfig;
  const shutdown = new ShutdownState();
  const setAside = { counts: vi.fn(async () => ({ inboxEvents: 0, calls: 0, messages: 0, oldest: null })) };
  const twilio = new TwilioHealthIndicator(gateway as unknown as TwilioGateway, indicators);
  const service = new HealthService(
    database as unknown as TypeOrmHealthIndicator,
    twilio,
    gateway as unknown as TwilioGateway,
    config,
    new WebhookMetricsService(new MetricsService()),
    setAside as unknown as SetAsideService,
    shutdown,
  );
  return { service, gateway, database, shutdown };
}

describe('HealthService', () => {
  it('tells an anonymous caller only the status', async () => {
    const { service } = setup();
    await expect(service.getHealth(undefined)).resolves.toEqual({ status: 'ok' });
  });

  it('tells a caller without phone:view only the status', async () => {
    const { service } = setup();
    await expect(service.getHealth(user(Permission.Sms))).resolves.toEqual({ status: 'ok' });
  });

  it('gives details to phone:view and to phone:admin', async () => {
    const { service } = setup({ databaseUrl: 'postgres://x/y' });
    for (const caller of [user(Permission.View), user(Permission.Admin)]) {
      const health = await service.getHealth(caller);
      expect(health).toMatchObject({
        status: 'ok',
        database: { status: 'up', latency_ms: 2, driver: 'postgres' },
        twilio: { status: 'up', reachable: true, mode: 'sandbox', base_url: 'http://127.0.0.1:9999', account_status: 'active' },
        version: '9.9.9',
      });
      expect(health.uptime_seconds).toBeGreaterThanOrEqual(0);
    }
  });

  it('reports the embedded driver without DATABASE_URL', async () => {
    const { service } = setup();
    expect((await service.getHealth(user(Permission.View))).database!.driver).toBe('pglite');
  });

  it('is error when the database is down', async () => {
    const { service } = setup({ dbUp: false });
    await expect(service.getHealth(undefined)).resolves.toEqual({ status: 'error' });
    const health = await service.getHealth(user(Permission.View));
    expect(health.status).toBe('error');
    expect(health.database).toMatchObject({ status: 'down', error: 'connection refused' });
    expect(health.twilio!.status).toBe('up');
  });

  it('is error when Twilio cannot be reached', async () => {
    const { service } = setup({
      fetchAccount: async () => Promise.reject(new TwilioGatewayError('unavailable', 'Twilio could not be reached: ECONNREFUSED')),
    });
    const health = await service.getHealth(user(Permission.View));
    expect(health.status).toBe('error');
    expect(health.twilio).toMatchObject({ status: 'down', reachable: false, account_status: null });
    expect(health.database!.status).toBe('up');
  });

  it('marks Twilio reachable but down when it refuses our credentials', async () => {
    const { service } = setup({
      fetchAccount: async () => Promise.reject(new TwilioGatewayError('auth_failed', 'Twilio rejected the service credentials', 20003)),
    });
    const health = await service.getHealth(user(Permission.View));
    expect(health.twilio).toMatchObject({ status: 'down', reachable: true });
  });

  it('gives up on a Twilio that does not answer within the short timeout', async () => {
    vi.useFakeTimers();
    try {
      const { service } = setup({ fetchAccount: () => new Promise(() => undefined) });
      const pending = service.getHealth(user(Permission.View));
      await vi.advanceTimersByTimeAsync(3001);
      const health = await pending;
      expect(health.status).toBe('error');
      expect(health.twilio).toMatchObject({ status: 'down', reachable: false });
      expect(health.twilio!.error).toMatch(/3000 ms/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('shares one cached Twilio probe between every caller for HEALTH_TWILIO_CACHE_SECONDS', async () => {
    vi.useFakeTimers();
    try {
      const { service, gateway } = setup();
      await service.getHealth(undefined);
      await service.getHealth(user(Permission.View));
      await service.getHealth(undefined);
      expect(gateway.fetchAccount).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(31_000);
      await service.getHealth(user(Permission.View));
      expect(gateway.fetchAccount).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('is ready when the database answers, and not ready while draining; never asks Twilio', async () => {
    const { service, gateway, shutdown } = setup();
    await expect(service.getReadiness()).resolves.toEqual({ status: 'ok', database: 'up', draining: false });
    shutdown.begin();
    await expect(service.getReadiness()).resolves.toEqual({ status: 'error', database: 'up', draining: true });
    expect(gateway.fetchAccount).not.toHaveBeenCalled();
  });

  it('is not ready when the database is down', async () => {
    const { service } = setup({ dbUp: false });
    await expect(service.getReadiness()).resolves.toEqual({ status: 'error', database: 'down', draining: false });
  });
});
