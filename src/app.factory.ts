import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { jsonDepthLimit } from './common/json-depth.middleware';
import { createValidationPipe } from './common/validation.pipe';
import { JsonLogger, setAppLogger } from './common/logger';
import { AppConfig } from './config/app-config';
import { setupSwagger } from './swagger';

export const API_PREFIX = 'api/phone';

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
  app.useBodyParser('json', { limit: '100kb' });
  app.useBodyParser('urlencoded', { limit: '100kb', extended: false });
  app.use(jsonDepthLimit());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  await setupSwagger(app);
  return app;
}
