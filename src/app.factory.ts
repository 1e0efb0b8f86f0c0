import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { API_PREFIX } from './common/api-routes';
import { requestIdMiddleware } from './common/request-id.middleware';
import { createValidationPipe } from './common/validation.pipe';
import { JsonLogger, setAppLogger } from './common/logger';
import { AppConfig } from './config/app-config';
import { setupSwagger } from './swagger';

export { API_PREFIX };

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
  app.useBodyParser('json', { limit: '100kb' });
  app.useBodyParser('urlencoded', { limit: '100kb', extended: false });
  app.setGlobalPrefix(API_PREFIX);
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  await setupSwagger(app);
  return app;
}
