import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { DataSource } from 'typeorm';
import YAML from 'yaml';
import type { JsonBody } from '../support/http';
import type { TestApp } from '../support/test-app';

/** Helpers for tests driven by openapi.yaml: every operation, its schemas and a response validator. */

export const OPENAPI_FILE = resolve(__dirname, '../../openapi.yaml');

export interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  nullable?: boolean;
  example?: unknown;
  default?: unknown;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  additionalProperties?: boolean | Schema;
  description?: string;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
  example?: unknown;
  description?: string;
}

export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  operationId: string;
  permission: string;
  tags: string[];
  parameters: Parameter[];
  /** media type -> schema */
  requestBody?: { required: boolean; content: Record<string, Schema> };
  /** status -> schema (undefined when the response has no body) */
  responses: Record<string, Schema | undefined>;
  security: unknown[];
  isWebhook: boolean;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, Schema>; securitySchemes?: Record<string, unknown> };
  tags?: { name: string; description?: string }[];
}

export function loadSpec(file = OPENAPI_FILE): OpenApiDocument {
  return YAML.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const raw = item[method] as Record<string, JsonBody> | undefined;
      if (!raw) continue;
      const content = raw.requestBody?.content as Record<string, { schema: Schema }> | undefined;
      const responses: Record<string, Schema | undefined> = {};
      for (const [status, response] of Object.entries((raw.responses ?? {}) as Record<string, JsonBody>)) {
        const media = response.content?.['application/json'] ?? Object.values(response.content ?? {})[0];
        responses[status] = (media as { schema?: Schema } | undefined)?.schema;
      }
      ops.push({
        method,
        path,
        operationId: raw.operationId,
        permission: raw['x-permission'],
        tags: raw.tags ?? [],
        parameters: (raw.parameters ?? []) as Parameter[],
        requestBody: content
          ? {
              required: Boolean(raw.requestBody.required),
              content: Object.fromEntries(Object.entries(content).map(([type, m]) => [type, m.schema])),
            }
          : undefined,
        responses,
        security: raw.security ?? [],
        isWebhook:
          raw['x-permission'] === 'public' &&
          (raw.parameters ?? []).some((p: Parameter) => p.in === 'header' && p.name.toLowerCase() === 'x-twilio-signature'),
      });
    }
  }
  return ops;
}

/** Resolves `$ref`s and `allOf`s one level at a time, for input generation. */
export function deref(doc: OpenApiDocument, schema: Schema | undefined): Schema {
  if (!schema) return {};
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components.schemas[name];
    if (!target) throw new Error(`unknown schema ${schema.$ref}`);
    return deref(doc, target);
  }
  if (schema.allOf?.length === 1 && !schema.properties) {
    const { allOf, ...rest } = schema;
    return { ...deref(doc, allOf[0]), ...rest };
  }
  return schema;
}

/** Compiles response validators against the document's own component schemas. */
export class ResponseValidator {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenApiDocument) {
    this.ajv = new Ajv({ strict: false, allErrors: true, discriminator: false });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'openapi', components: rewriteRefs(doc.components) }, 'openapi');
  }

  /** null when `body` matches `schema`, else the ajv errors. */
  check(schema: Schema, body: unknown): string | null {
    const key = JSON.stringify(schema);
    let validate = this.cache.get(key);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(schema) as object);
      this.cache.set(key, validate);
    }
    return validate(body) ? null : this.ajv.errorsText(validate.errors, { separator: '; ' });
  }

  get errorSchema(): Schema {
    return { $ref: '#/components/schemas/ErrorResponseDto' };
  }
}

function rewriteRefs<T>(value: T): T {
  if (Array.isArray(value)) return value.map(rewriteRefs) as T;
  if (value === null || typeof value !== 'object') return value;
  const schema = Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi${v}` : rewriteRefs(v),
    ]),
  );
  // `nullable` beside a composition (`allOf: [$ref]`, which the swagger plugin writes for `Dto | null`)
  // means "this or null", as the generated clients read it; JSON Schema needs it spelled out
  if (schema.nullable === true && (schema.allOf || schema.oneOf || schema.anyOf)) {
    const { nullable: _nullable, description, ...rest } = schema;
    return { description, anyOf: [rest, { type: 'null' }] } as T;
  }
  return schema as T;
}

/** Rows per table, to prove a rejected request wrote nothing. */
export async function rowCounts(t: TestApp): Promise<Record<string, number>> {
  const source = t.app.get(DataSource);
  const counts: Record<string, number> = {};
  for (const meta of [...source.entityMetadatas].sort((a, b) => a.tableName.localeCompare(b.tableName))) {
    // rate-limit counters count every request, rejected ones too, and the usage rollups are
    // refreshed on a timer, event deliveries and their attempts are made by the relay and the
    // worker in the background: bookkeeping, not records
    if (['throttle_counters', 'call_daily_stats', 'message_daily_stats', 'event_deliveries', 'event_attempts'].includes(meta.tableName))
      continue;
    const [row] = await source.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM "${meta.tableName}"`);
    counts[meta.tableName] = Number(row.n);
  }
  return counts;
}

/** Fills `{name}` placeholders of an OpenAPI path. */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    if (!(name in params)) throw new Error(`no value for path parameter ${name} of ${path}`);
    // as URLSearchParams (and any HTTP client) would: an unpaired surrogate has no UTF-8 form, it becomes U+FFFD
    return encodeURIComponent(params[name].replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
  });
}

export interface HttpResult {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

export interface RequestSpec {
  method: string;
  path: string;
  query?: Record<string, unknown>;
  body?: unknown;
  /** how to encode body: json (default) or form */
  encoding?: 'json' | 'form' | 'raw';
  headers?: Record<string, string>;
  token?: string;
}

/** A value as a query or form field carries it: objects as JSON, anything else as String() writes it. */
export function fieldText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null || v === undefined) return String(v);
  return JSON.stringify(v);
}

export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => search.append(k, String(x)));
    else search.append(k, fieldText(v));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

export function encodeForm(body: unknown): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => search.append(k, String(x)));
    else search.append(k, fieldText(v));
  }
  return search.toString();
}

export async function send(baseUrl: string, req: RequestSpec): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  let body: string | undefined;
  if (req.body !== undefined) {
    if (req.encoding === 'form') {
      body = encodeForm(req.body);
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (req.encoding === 'raw') {
      body = fieldText(req.body);
    } else {
      body = JSON.stringify(req.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  const res = await fetch(`${baseUrl}${req.path}${queryString(req.query)}`, { method: req.method.toUpperCase(), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (TwiML, HTML): keep the text
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
