import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import twilio from 'twilio';
import { TwilioSandbox, type TwilioSandboxOptions } from '../src';
import schemas from './schemas/twilio-api-v2010.json';

export const OWNED = '+14155550199';
export const CUSTOMER = '+14155550142';

export function startSandbox(options: TwilioSandboxOptions = {}): Promise<TwilioSandbox> {
  return TwilioSandbox.start({ speed: 500, cps: 50, seed: 7, ownedNumbers: [OWNED], ...options });
}

export interface RawExchange {
  method: string;
  uri: string;
  statusCode: number;
  body: unknown;
  data?: unknown;
  params?: unknown;
}

type RequestOptions<TData> = Parameters<twilio.RequestClient['request']>[0] & { data?: TData };

/**
 * The SDK's own request client, sending what it would send to api.twilio.com to the sandbox instead
 * (path and query kept, also for next-page links), and keeping every raw exchange so tests can see
 * status codes and bodies.
 */
export class RecordingRequestClient extends twilio.RequestClient {
  readonly exchanges: RawExchange[] = [];
  private readonly target: URL;

  constructor(baseUrl: string, opts: ConstructorParameters<typeof twilio.RequestClient>[0]) {
    super(opts);
    this.target = new URL(baseUrl);
  }

  override async request<TData>(opts: RequestOptions<TData>) {
    const original = new URL(opts.uri);
    const uri = `${this.target.origin}${original.pathname}${original.search}`;
    const response = await super.request<TData>({ ...opts, uri });
    const body = typeof response.body === 'string' && response.body ? JSON.parse(response.body) : response.body;
    this.exchanges.push({
      method: opts.method,
      uri: opts.uri,
      statusCode: response.statusCode,
      body,
      data: opts.data,
      params: opts.params,
    });
    return response;
  }

  last(): RawExchange {
    const exchange = this.exchanges[this.exchanges.length - 1];
    if (!exchange) throw new Error('no exchange yet');
    return exchange;
  }
}

export interface SdkOptions {
  authToken?: string;
  timeoutMs?: number;
  autoRetry?: boolean;
  maxRetries?: number;
}

export function sdkFor(sandbox: Pick<TwilioSandbox, 'accountSid' | 'authToken' | 'baseUrl'>, opts: SdkOptions = {}) {
  const http = new RecordingRequestClient(sandbox.baseUrl, {
    timeout: opts.timeoutMs,
    autoRetry: opts.autoRetry,
    maxRetries: opts.maxRetries,
  });
  const client = twilio(sandbox.accountSid, opts.authToken ?? sandbox.authToken, { httpClient: http });
  return { client, http };
}

const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('date-time-rfc-2822', RFC2822);
// Twilio's own examples put "(808) 925-1571" under this format, so any phone-number notation passes.
ajv.addFormat('phone-number', /^\+?[\d() .-]{7,20}$/);
ajv.addFormat('currency', /^[A-Za-z]{3}$/);
ajv.addFormat('http-method', /^(GET|POST)$/);
ajv.addFormat('iso-country-code', /^[A-Z]{2}$/);
ajv.addFormat('phone-number-capabilities', true);
ajv.addFormat('uri-map', true);
// Twilio's list envelopes and `uri` fields hold paths relative to the API host.
ajv.addFormat('uri', /^(https?:\/\/[^\s]+|\/[^\s]*)$/);

type Schema = { properties?: Record<string, unknown> } & Record<string, unknown>;

/**
 * Where the spec's schema types a field as a number but the spec's own examples and the live API send
 * a string (latitude/longitude of available numbers, usage price), the string is accepted too.
 */
const SENT_AS_STRINGS = ['latitude', 'longitude', 'price'];

/** Every property of the official schema must be present: the sandbox may not leave fields out. */
function complete(schema: Schema): Schema {
  const properties = Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([name, property]) => {
      const p = property as Record<string, unknown>;
      return [name, SENT_AS_STRINGS.includes(name) && p.type === 'number' ? { ...p, type: ['number', 'string'] } : p];
    }),
  );
  return { ...schema, properties, required: Object.keys(properties) };
}

const validators = new Map<string, ValidateFunction>();

export function expectSchema(kind: keyof typeof schemas.resources, value: unknown): void {
  const key = `resource:${kind}`;
  if (!validators.has(key)) validators.set(key, ajv.compile(complete(schemas.resources[kind] as Schema)));
  assertValid(validators.get(key)!, kind, value);
}

export function expectListSchema(kind: keyof typeof schemas.lists, value: unknown): void {
  const key = `list:${kind}`;
  if (!validators.has(key)) {
    const list = schemas.lists[kind] as Schema;
    const properties = { ...(list.properties ?? {}) } as Record<string, Record<string, unknown>>;
    for (const [name, property] of Object.entries(properties)) {
      const items = property.items as Schema | undefined;
      if (property.type === 'array' && items?.properties) properties[name] = { ...property, items: complete(items) };
    }
    validators.set(key, ajv.compile({ ...list, properties }));
  }
  assertValid(validators.get(key)!, kind, value);
}

function assertValid(validate: ValidateFunction, kind: string, value: unknown): void {
  if (!validate(value)) {
    throw new Error(`${kind} does not match Twilio's schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
  }
}

export function formOf(text: string): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = form[key];
    form[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return form;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  /** The URL as the sandbox called it, for signature checks. */
  url: string;
  headers: IncomingMessage['headers'];
  params: Record<string, string | string[]>;
  at: number;
}

export interface Reply {
  status?: number;
  body?: string;
  contentType?: string;
  delayMs?: number;
}

/** A small local webhook receiver that records what the sandbox sends and answers per path. */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly handlers = new Map<string, (req: ReceivedRequest) => Reply>();
  private server: Server | null = null;
  baseUrl = '';

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await receiver.listen();
    return receiver;
  }

  on(path: string, handler: Reply | ((req: ReceivedRequest) => Reply)): this {
    this.handlers.set(path, typeof handler === 'function' ? handler : () => handler);
    return this;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  to(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  isTwilioSigned(req: ReceivedRequest, authToken: string): boolean {
    const signature = String(req.headers['x-twilio-signature'] ?? '');
    const params = req.method === 'POST' ? req.params : {};
    return twilio.validateRequest(authToken, signature, req.url, params);
  }

  clear(): void {
    this.requests.length = 0;
    this.handlers.clear();
  }

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', this.baseUrl);
        const received: ReceivedRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          url: url.toString(),
          headers: req.headers,
          params: req.method === 'POST' ? formOf(Buffer.concat(chunks).toString('utf8')) : formOf(url.search.slice(1)),
          at: Date.now(),
        };
        this.requests.push(received);
        const reply = this.handlers.get(url.pathname)?.(received) ?? {};
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(reply.status ?? 200, { 'Content-Type': reply.contentType ?? 'text/xml' });
          res.end(reply.body ?? '<Response/>');
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', () => resolve()));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function param(req: ReceivedRequest | undefined, key: string): string | undefined {
  const value = req?.params[key];
  return Array.isArray(value) ? value[0] : value;
}

export async function expectRestError(promise: Promise<unknown>, status: number, code: number): Promise<twilio.RestException> {
  const err = await promise.then(
    () => {
      throw new Error(`expected RestException ${status}/${code}, got success`);
    },
    (e: unknown) => e,
  );
  if (!(err instanceof twilio.RestException)) throw err;
  expect({ status: err.status, code: err.code }).toEqual({ status, code });
  expect(err.moreInfo).toBe(`https://www.twilio.com/docs/errors/${code}`);
  return err;
}

/**
 * A sandbox and a webhook receiver for a file's tests: started once, both reset before each test
 * (before the file's own beforeEach hooks), stopped at the end.
 */
export function useSandboxWithReceiver(use: (sandbox: TwilioSandbox, receiver: WebhookReceiver) => void): void {
  let sandbox: TwilioSandbox;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    sandbox = await startSandbox();
    receiver = await WebhookReceiver.start();
    use(sandbox, receiver);
  });
  afterAll(async () => {
    await sandbox?.stop();
    await receiver?.stop();
  });
  beforeEach(() => {
    sandbox.reset();
    receiver.clear();
  });
}
