import { HttpStatus, INestApplication, RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { ApiResponse, ApiTags, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import YAML from 'yaml';
import { BEARER_SCHEME } from './auth/auth.decorators';
import { schemaRules } from './common/api-schema-rule';
import { ErrorResponseDto } from './common/error-response.dto';
import { packageVersion } from './config/app-config';

const API_TAGS_METADATA = 'swagger/apiUseTags';
const API_RESPONSE_METADATA = 'swagger/apiResponse';
const HTTP_CODE_METADATA = '__httpCode__';
const METHOD_METADATA = 'method';
const PLUGIN_METADATA_FACTORY = '_OPENAPI_METADATA_FACTORY';

/** One tag per feature module; the key is the module name without `Module`, lower-cased. */
const TAG_DESCRIPTIONS: Record<string, string> = {
  assistants: "Assistants: what answers a number or talks on a call, turn by turn, through the platform's agent URL",
  billing: 'Account balance and usage statistics',
  calls: 'Calls: place, follow, list, speak on, transfer and hang up; transcripts and end-of-call reports',
  campaigns: 'Campaigns: many calls or messages, paced, inside local calling hours, retried; control and progress',
  conversations: "Conversations: the transcripts of assistants' SMS conversations",
  events:
    'Platform events: register endpoints, then each event is POSTed to them as an EventPayloadDto, signed as Standard Webhooks ' +
    'defines (webhook-id = the event id, webhook-timestamp, webhook-signature), retried with backoff for about a day; list and replay them',
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
    .setVersion(packageVersion())
    .setLicense('Proprietary (UNLICENSED)', '')
    .addServer('/', 'This service (same origin as the document)')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey, methodKey) => methodKey,
  });
  completeDocument(document);
  return normalizeOpenApiDocument(document);
}

export async function setupSwagger(app: INestApplication): Promise<void> {
  const document = await buildOpenApiDocument(app);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

const ERROR_SCHEMA_REF = '#/components/schemas/ErrorResponseDto';

/** What an error of each status looks like, for the example of each documented error response. */
const ERROR_EXAMPLES: Record<number, { code: string; message: string; field?: string }> = {
  400: { code: 'validation_failed', message: 'to must be a valid E.164 phone number, e.g. +14155550100', field: 'to' },
  401: { code: 'unauthorized', message: 'Missing or invalid bearer token' },
  402: { code: 'insufficient_funds', message: 'The Twilio account has insufficient funds' },
  403: { code: 'forbidden', message: 'This token lacks the phone:call permission' },
  404: { code: 'not_found', message: 'Call CA0123456789abcdef0123456789abcdef not found' },
  409: { code: 'call_already_ended', message: 'Call CA0123456789abcdef0123456789abcdef has already ended' },
  413: { code: 'payload_too_large', message: 'Request body is too large' },
  415: {
    code: 'unsupported_media_type',
    message: 'A campaign is sent as application/json, multipart/form-data or text/csv (got application/xml)',
  },
  416: { code: 'range_not_satisfiable', message: 'Range bytes=90000- is outside recording RE0123456789abcdef0123456789abcdef' },
  422: { code: 'idempotency_key_mismatch', message: 'Idempotency-Key was used with a different request' },
  429: { code: 'rate_limited', message: 'Too many requests; retry after 12 seconds' },
  500: { code: 'internal_error', message: 'Internal server error' },
  502: { code: 'twilio_unavailable', message: 'Twilio failed to answer the request' },
  503: { code: 'dependency_unavailable', message: 'The database is not reachable' },
  504: { code: 'twilio_timeout', message: 'Twilio did not answer in time' },
};

const UNEXPECTED_ERROR = {
  description: 'Unexpected error (code internal_error); request_id names it in the service logs',
  content: { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF } } },
};

/**
 * What the decorators cannot say: the rules between properties (src/common/api-schema-rule.ts);
 * integers (this API has no fractional numbers: money travels as decimal strings, so a `number`
 * without a format is an integer); the 500 every operation may answer; and an example of each
 * documented error built for its status, so that a 404 does not show a 400's body.
 */
function completeDocument(document: OpenAPIObject): void {
  const schemas = (document.components?.schemas ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, rule] of schemaRules()) if (schemas[name]) Object.assign(schemas[name], rule);
  dropMapsBesideReferences(schemas);
  useIntegers(document);
  typeNullableEnums(schemas);
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item as Record<string, OperationLike>)) {
      if (!operation?.responses) continue;
      operation.responses['500'] ??= structuredClone(UNEXPECTED_ERROR);
      for (const [status, response] of Object.entries(operation.responses)) {
        const media = (response as { content?: Record<string, { schema?: { $ref?: string }; example?: unknown }> }).content?.[
          'application/json'
        ];
        if (media?.schema?.$ref !== ERROR_SCHEMA_REF || media.example !== undefined) continue;
        media.example = errorExample(Number(status));
      }
    }
  }
}

function errorExample(status: number): Record<string, unknown> {
  const known = ERROR_EXAMPLES[status] ?? {
    code: status >= 500 ? 'internal_error' : 'validation_failed',
    message: STATUS_CODES[status] ?? 'Error',
  };
  return {
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    message: known.message,
    code: known.code,
    ...(known.field ? { details: [{ field: known.field, message: known.message }] } : {}),
    request_id: '6f1c2a7e-1d2b-4c55-9f1e-3a2b1c0d9e8f',
  };
}

/**
 * A nullable property holding a named enum (`allOf: [$ref]`, `nullable`) gets the enum's `type` beside
 * it, as OpenAPI 3.0 requires of `nullable`; the decorators drop a `type` given with an enum.
 */
function typeNullableEnums(schemas: Record<string, Record<string, unknown>>): void {
  for (const schema of Object.values(schemas)) {
    for (const property of Object.values((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) {
      const ref = (property.allOf as { $ref?: string }[] | undefined)?.[0]?.$ref;
      if (property.nullable !== true || property.type !== undefined || !ref) continue;
      const target = schemas[ref.replace('#/components/schemas/', '')];
      if (target?.enum && typeof target.type === 'string') property.type = target.type;
    }
  }
}

/**
 * The plugin reads a class with an index signature (Metadata) as a plain map and keeps that map next
 * to the reference an explicit @ApiProperty({ type }) adds; the referenced schema says it already.
 */
function dropMapsBesideReferences(schemas: Record<string, Record<string, unknown>>): void {
  for (const schema of Object.values(schemas)) {
    for (const property of Object.values((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) {
      const referencing = Array.isArray(property.allOf) && property.allOf.some((s: { $ref?: string }) => s.$ref !== undefined);
      if (referencing) delete property.additionalProperties;
    }
  }
}

function useIntegers(value: unknown): void {
  if (Array.isArray(value)) return value.forEach(useIntegers);
  if (value === null || typeof value !== 'object') return;
  const node = value as Record<string, unknown>;
  if (node.type === 'number' && node.format === undefined) node.type = 'integer';
  Object.values(node).forEach(useIntegers);
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
 * security, tags of an operation) and named examples keep their order.
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
      // a body taken in several media types, each with its own schema (ApiBody gives all the same one)
      if (operation?.['x-request-content']) {
        operation.requestBody = { ...operation.requestBody, content: operation['x-request-content'] };
        delete operation['x-request-content'];
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
  requestBody?: Record<string, unknown>;
  'x-request-content'?: Record<string, unknown>;
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
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  // named examples keep their order: Swagger UI offers the first one
  if (key !== 'examples') entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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
