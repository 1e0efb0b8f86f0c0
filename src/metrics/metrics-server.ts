import { createServer, type Server } from 'node:http';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from './metrics.service';
import { METRICS_PATH, metricsHandler } from './metrics.http';

/** With METRICS_PORT, /metrics is served on that port only, away from the public API port. */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metrics.port === null) return;
    const handle = metricsHandler(this.metrics, this.config.metrics.token);
    const server = createServer((req, res) =>
      handle(req, res, (error?: unknown) => {
        res.statusCode = error ? 500 : 404;
        res.end();
      }),
    );
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.metrics.port!, this.config.host, () => resolve());
    });
    this.server = server;
    const address = server.address();
    appLogger().event('info', 'metrics_listening', {
      port: typeof address === 'object' && address ? address.port : null,
      path: METRICS_PATH,
    });
  }

  /** The port actually bound (METRICS_PORT=0 picks a free one). */
  port(): number | null {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : null;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
