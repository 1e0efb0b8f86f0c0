import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { AppModule } from './app.module';
import { API_PREFIX } from './common/api-routes';
import { requestIdMiddleware } from './common/request-id.middleware';
import { jsonDepthLimit } from './common/json-depth.middleware';
import { createValidationPipe } from './common/validation.pipe';
import { JsonLogger, setAppLogger } from './common/logger';
import { AppConfig } from './config/app-config';
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

/** Builds the application (not listening) exactly as production runs it; tests use it too. */
export async function createApp(config: AppConfig): Promise<INestApplication> {
  const logger = new JsonLogger(config.logLevel);
  setAppLogger(logger);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger,
    bodyParser: false,
    rawBody: true,
    abortOnError: false,
  });
  app.set('trust proxy', config.webhooks.trustProxy);
  app.disable('x-powered-by');
  // before the body parsers and outside the global prefix: every response carries a request id
  app.use(requestIdMiddleware);
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
      ],
      maxAge: 600,
    });
  }
  app.useBodyParser('json', { limit: '100kb' });
  app.useBodyParser('urlencoded', { limit: '100kb', extended: false });
  app.setGlobalPrefix(API_PREFIX);
  app.use(jsonDepthLimit());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  if (config.security.swaggerEnabled) await setupSwagger(app);
  return app;
}
