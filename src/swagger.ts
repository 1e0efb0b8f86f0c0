import { HttpStatus, INestApplication, RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { ApiResponse, ApiTags, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import YAML from 'yaml';
import { BEARER_SCHEME } from './auth/auth.decorators';
import { ErrorResponseDto } from './common/error-response.dto';

const API_TAGS_METADATA = 'swagger/apiUseTags';
const API_RESPONSE_METADATA = 'swagger/apiResponse';
const HTTP_CODE_METADATA = '__httpCode__';
const METHOD_METADATA = 'method';
const PLUGIN_METADATA_FACTORY = '_OPENAPI_METADATA_FACTORY';

/** One tag per feature module; the key is the module name without `Module`, lower-cased. */
const TAG_DESCRIPTIONS: Record<string, string> = {
  billing: 'Account balance and usage statistics',
  calls: 'Outbound calls: place, follow, list and hang up',
  health: 'Service health (database and Twilio reachability)',
  numbers: 'Twilio phone numbers: search, buy, list and release',
  sms: 'Outbound SMS: send, follow and list',
  webhooks: 'Twilio callbacks (form-encoded, authenticated by the X-Twilio-Signature header)',
};

/** The OpenAPI document, built from the controllers and DTOs, tagged per module and sorted. */
export async function buildOpenApiDocument(app: INestApplication): Promise<OpenAPIObject> {
  await loadPluginMetadata();
  tagControllersByModule(app);
  const config = new DocumentBuilder()
    .setTitle('Samsaek Phone Service')
    .setDescription('Numbers, calls, SMS, webhooks and billing for AI assistants, over Twilio.')
    .setVersion('1.0.0')
    .setLicense('Proprietary (UNLICENSED)', '')
    .addServer('/', 'This service (same origin as the document)')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey, methodKey) => methodKey,
  });
  return normalizeOpenApiDocument(document);
}

export async function setupSwagger(app: INestApplication): Promise<void> {
  const document = await buildOpenApiDocument(app);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

/** Tags every controller that has no @ApiTags with the name of the module that declares it. */
function tagControllersByModule(app: INestApplication): void {
  for (const module of app.get(ModulesContainer).values()) {
    const tag = module.metatype?.name.replace(/Module$/, '').toLowerCase();
    if (!tag) continue;
    for (const { metatype } of module.controllers.values()) {
      if (typeof metatype !== 'function' || Reflect.getMetadata(API_TAGS_METADATA, metatype)) continue;
      ApiTags(tag)(metatype);
    }
  }
}

/**
 * Makes the document independent of declaration and discovery order: paths, schemas, properties,
 * responses and every other map are sorted by key; `required` lists are sorted; parameters are
 * ordered path, query, header, cookie, then by name. Arrays whose order means something (enums,
 * security, tags of an operation) keep their order.
 */
export function normalizeOpenApiDocument(document: OpenAPIObject): OpenAPIObject {
  const used = new Set<string>();
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item as Record<string, OperationLike>)) {
      operation?.tags?.forEach((t) => used.add(t));
      if (operation?.['x-permission'] === 'public' && !operation.security) {
        // Public: no token needed. One that is sent is still verified; say so where a 401 is documented.
        operation.security = operation.responses?.['401'] ? [{}, { [BEARER_SCHEME]: [] }] : [];
      }
    }
  }
  const cleanInfo = { ...document.info };
  if (cleanInfo.contact && !Object.keys(cleanInfo.contact).length) delete cleanInfo.contact;
  if (cleanInfo.license && !cleanInfo.license.url) cleanInfo.license = { name: cleanInfo.license.name };
  const tags = [...used].sort().map((name) => ({ name, ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}) }));
  const { openapi, info, servers, security, paths, components, ...rest } = document;
  const ordered: Record<string, unknown> = { openapi, info: { ...info, ...cleanInfo } };
  if (servers?.length) ordered.servers = servers;
  if (tags.length) ordered.tags = tags;
  if (security?.length) ordered.security = security;
  ordered.paths = paths;
  ordered.components = components;
  for (const [key, value] of Object.entries(rest)) if (key !== 'tags' && value !== undefined) ordered[key] = value;
  return Object.fromEntries(
    Object.entries(ordered).map(([k, v]) => [k, k === 'openapi' || k === 'tags' ? v : sortDeep(v)]),
  ) as unknown as OpenAPIObject;
}

interface OperationLike {
  tags?: string[];
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
  'x-permission'?: string;
}

const PARAMETER_ORDER: Record<string, number> = { path: 0, query: 1, header: 2, cookie: 3 };

function sortDeep(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => sortDeep(v));
    if (key === 'required' && items.every((v) => typeof v === 'string')) return [...items].sort();
    if (key === 'parameters') {
      return [...items].sort((a, b) => {
        const pa = a as { in?: string; name?: string };
        const pb = b as { in?: string; name?: string };
        return (PARAMETER_ORDER[pa.in ?? ''] ?? 9) - (PARAMETER_ORDER[pb.in ?? ''] ?? 9) || String(pa.name).localeCompare(String(pb.name));
      });
    }
    return items;
  }
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortDeep(v, k)]));
}

interface PluginMetadata {
  '@nestjs/swagger'?: { controllers?: [Promise<Record<string, unknown>>, Record<string, Record<string, Record<string, unknown>>>][] };
}

/**
 * Under `nest build` the swagger plugin writes DTO metadata into the compiled classes. Test runs
 * compile with SWC, which has no such plugin, so they load `./metadata`, generated ahead of time
 * (test/support/global-setup.ts). A compiled build never loads it, even when a stale copy was
 * compiled along: the plugin's output is the truth there.
 */
async function loadPluginMetadata(): Promise<void> {
  if (typeof (ErrorResponseDto as unknown as Record<string, unknown>)[PLUGIN_METADATA_FACTORY] === 'function') return;
  let metadata: PluginMetadata;
  try {
    // `as string`: the file is generated for test runs only, so the compiler must not resolve it
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    const generated = (await import('./metadata' as string)) as { default: () => Promise<PluginMetadata> };
    metadata = await generated.default();
  } catch {
    return; // no generated metadata: schemas come from explicit decorators only
  }
  await SwaggerModule.loadPluginMetadata((() => Promise.resolve(metadata)) as never);
  await addInferredSuccessResponses(metadata);
}

/**
 * The compiling plugin adds `@ApiResponse({ status, type: <return type> })` to a route that
 * declares no success response. Loaded metadata does that only for a route with no response
 * decorator at all (and every protected route has 401/403 from @RequirePermission), so do what
 * the plugin does: the two builds must produce the same document.
 */
async function addInferredSuccessResponses(metadata: PluginMetadata): Promise<void> {
  for (const [fileImport, classes] of metadata['@nestjs/swagger']?.controllers ?? []) {
    const file = await fileImport;
    for (const [className, methods] of Object.entries(classes)) {
      const prototype = (file[className] as { prototype?: Record<string, unknown> } | undefined)?.prototype;
      if (!prototype) continue;
      for (const [method, meta] of Object.entries(methods)) {
        const { summary: _summary, deprecated: _deprecated, tags: _tags, ...response } = meta;
        const handler = prototype[method];
        if (!Object.keys(response).length || typeof handler !== 'function') continue;
        const existing = (Reflect.getMetadata(API_RESPONSE_METADATA, handler) ?? {}) as Record<string, unknown>;
        if (Object.keys(existing).some((status) => Number(status) < 400)) continue;
        const status =
          (response.status as number | undefined) ??
          (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ??
          (Reflect.getMetadata(METHOD_METADATA, handler) === RequestMethod.POST ? HttpStatus.CREATED : HttpStatus.OK);
        ApiResponse({ ...response, status })(prototype, method, Object.getOwnPropertyDescriptor(prototype, method)!);
      }
    }
  }
}

/** The committed form of the document: YAML, no line folding, no anchors. */
export function renderOpenApiYaml(document: OpenAPIObject): string {
  return YAML.stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
}
