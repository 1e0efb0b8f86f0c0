import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { BEARER_SCHEME } from './auth/auth.decorators';

/** The OpenAPI document, built from the controllers and DTOs. */
export async function buildOpenApiDocument(app: INestApplication): Promise<OpenAPIObject> {
  await loadPluginMetadata();
  const config = new DocumentBuilder()
    .setTitle('Samsaek Phone Service')
    .setDescription('Numbers, calls, SMS, webhooks and billing for AI assistants, over Twilio.')
    .setVersion('1.0.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_SCHEME)
    .build();
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey, methodKey) => methodKey,
  });
}

export async function setupSwagger(app: INestApplication): Promise<void> {
  const document = await buildOpenApiDocument(app);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

/**
 * Under `nest build` the swagger plugin writes DTO metadata into the compiled classes. Test runs
 * compile with SWC, which has no such plugin, so they load metadata generated ahead of time.
 */
async function loadPluginMetadata(): Promise<void> {
  try {
    const generated = (await import('./metadata' as string)) as { default: () => Promise<Record<string, unknown>> };
    await SwaggerModule.loadPluginMetadata(generated.default as never);
  } catch {
    // no generated metadata: the build-time plugin already annotated the DTOs
  }
}
