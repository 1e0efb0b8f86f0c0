import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { API_PREFIX, WEBHOOK_ROUTE } from './common/api-routes';
import { requestIdMiddleware, requestIdOf } from './common/request-id.middleware';
import { jsonDepthLimit } from './common/json-depth.middleware';
import { serverTiming, serverTimingContext } from './common/server-timing';
import { parseQueryString } from './common/query-parser';
import { createValidationPipe } from './common/validation.pipe';
import { JsonLogger, createLogging, setAppLogger } from './common/logger';
import { AppConfig } from './config/app-config';
import { ShutdownState } from './lifecycle/shutdown-state';
import { httpMetricsMiddleware, metricsHandler } from './metrics/metrics.http';
import { MetricsService } from './metrics/metrics.service';
import { setupSwagger } from './swagger';

export { API_PREFIX };
const DOCS_PATH = '/api/docs';

/**
 * Security headers. The API answers JSON only, so its CSP allows nothing at all; Swagger UI loads
 * its own scripts and styles from /api/docs (the styles partly inline). Neither may be framed.
 */
function securityHeaders(): (req: Request, res: Response, next: NextFunction) => void {
  const common = {
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    xFrameOptions: { action: 'deny' as const },
    referrerPolicy: { policy: 'no-referrer' as const },
  };
  const api = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  });
  const docs = helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
  return (req, res, next) => (req.path === DOCS_PATH || req.path.startsWith(`${DOCS_PATH}/`) ? docs : api)(req, res, next);
}

/**
 * While draining, requests that arrive are refused with 503 (webhooks excepted: Twilio may not
 * retry them, so they are still stored and answered) and every response closes its connection.
 * The probes answer for themselves.
 */
function drainingGate(shutdown: ShutdownState): (req: Request, res: Response, next: NextFunction) => void {
  const webhooks = `/${API_PREFIX}/${WEBHOOK_ROUTE}/`;
  const probes = `/${API_PREFIX}/health/`;
  return (req, res, next) => {
    // a request already in flight when draining starts also closes its connection after answering
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => Response;
    res.writeHead = ((...args: unknown[]) => {
      if (shutdown.draining) res.setHeader('Connection', 'close');
      return writeHead(...args);
    }) as Response['writeHead'];
    if (!shutdown.draining) return next();
    if (req.path.startsWith(webhooks) || req.path.startsWith(probes)) return next();
    res.setHeader('Retry-After', '1');
    res.status(503).json({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'This instance is shutting down; retry the request',
      code: 'shutting_down',
      request_id: requestIdOf(req),
    });
  };
}

export interface CreateAppOptions {
  /** Where log lines go (stdout when absent); tests pass a stream to read them. */
  logDestination?: DestinationStream;
}

/** Builds the application (not listening) exactly as production runs it; tests use it too. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const logging = createLogging({ level: config.logLevel, messageBodies: config.logMessageBodies, destination: options.logDestination });
  const logger = new JsonLogger(logging.root, logging.params);
  setAppLogger(logger);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logging.params), {
    logger,
    bodyParser: false,
    rawBody: true,
    abortOnError: false,
  });
  app.set('trust proxy', config.webhooks.trustProxy);
  app.set('query parser', parseQueryString);
  app.disable('x-powered-by');
  // first, so that the clock covers everything the service does with a request
  app.use(serverTiming());
  // before the body parsers and outside the global prefix: every response carries a request id
  app.use(requestIdMiddleware);
  app.use(httpMetricsMiddleware(app.get(MetricsService)));
  app.use(drainingGate(app.get(ShutdownState)));
  // outside the API prefix; on METRICS_PORT instead when that is set (MetricsServer)
  if (config.metrics.enabled && config.metrics.port === null) app.use(metricsHandler(app.get(MetricsService), config.metrics.token));
  app.use(securityHeaders());
  if (config.security.corsOrigins.length) {
    app.enableCors({
      origin: config.security.corsOrigins.includes('*') ? '*' : config.security.corsOrigins,
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'Idempotency-Key'],
      exposedHeaders: [
        'X-Request-Id',
        'Retry-After',
        'Idempotent-Replayed',
        'X-RateLimit-Limit',
        'X-RateLimit-Remaining',
        'X-RateLimit-Reset',
        'Server-Timing',
      ],
      maxAge: 600,
    });
  }
  // a campaign carries up to 100,000 recipients; every other body stays small
  app.use(`/${API_PREFIX}/campaigns`, json({ limit: '32mb' }));
  app.useBodyParser('json', { limit: '100kb' });
  app.useBodyParser('urlencoded', { limit: '100kb', extended: false });
  app.setGlobalPrefix(API_PREFIX);
  app.use(jsonDepthLimit());
  app.use(serverTimingContext());
  app.useGlobalPipes(createValidationPipe());
  if (config.security.swaggerEnabled) await setupSwagger(app);
  return app;
}
