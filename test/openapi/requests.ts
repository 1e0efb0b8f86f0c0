import twilio from 'twilio';
import type { JsonBody } from '../support/http';
import type { TestApp } from '../support/test-app';
import { HttpResult, OpenApiDocument, Operation, RequestSpec, Schema, deref, fieldText, fillPath, queryString, send } from './spec';

/**
 * Builds a request that should succeed for any operation of openapi.yaml, from the documented
 * examples, defaults and enums, plus live resources for SID path parameters (matched by the
 * parameter's pattern). An operation whose examples are not enough is listed in OVERRIDES.
 */

export const ADMIN = ['phone:admin'];
/** Non-admin permissions: phone:admin implies all, so "all but X" means the others of these. */
export const BASE_PERMISSIONS = ['phone:view', 'phone:call', 'phone:sms'];

export function exampleOf(doc: OpenApiDocument, schema: Schema | undefined): unknown {
  const s = deref(doc, schema);
  if (s.example !== undefined && s.example !== null) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.enum?.length) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'string':
      if (s.format === 'date-time') return new Date().toISOString();
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return [exampleOf(doc, s.items)];
    default: {
      const out: Record<string, unknown> = {};
      for (const name of s.required ?? []) if (s.properties?.[name]) out[name] = exampleOf(doc, s.properties[name]);
      return out;
    }
  }
}

/** Live resources to point SID path parameters at; created on demand through the API. */
export class Fixtures {
  private readonly activeCalls: string[] = [];
  private availableCache: string[] = [];

  constructor(readonly t: TestApp) {}

  get admin(): string {
    return this.t.token(ADMIN, 'fixtures');
  }

  private async must(req: RequestSpec): Promise<Record<string, JsonBody>> {
    const res = await send(this.t.baseUrl, { token: this.admin, ...req });
    if (res.status >= 300) throw new Error(`fixture ${req.method} ${req.path} answered ${res.status}: ${res.text}`);
    return res.body as Record<string, JsonBody>;
  }

  /** A call that stays in progress until hung up (sandbox: numbers ending 5555). */
  async activeCall(): Promise<string> {
    const call = await this.must({ method: 'POST', path: '/api/phone/call', body: { to: '+14155555555', message: 'fixture' } });
    this.activeCalls.push(call.sid);
    return call.sid;
  }

  private answered: string | null = null;

  /** A call that is answered and in progress, as its stored status says: the last one while it lasts. */
  async answeredCall(): Promise<string> {
    if (this.answered && (await this.must({ method: 'GET', path: `/api/phone/calls/${this.answered}` })).status === 'in-progress')
      return this.answered;
    const sid = await this.activeCall();
    for (let attempt = 0; attempt < 100; attempt++) {
      const call = await this.must({ method: 'GET', path: `/api/phone/calls/${sid}` });
      if (call.status === 'in-progress') return (this.answered = sid);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`call ${sid} was not answered`);
  }

  /** A completed recording: a recorded call the sandbox plays to its end. */
  async recording(): Promise<string> {
    const call = await this.must({
      method: 'POST',
      path: '/api/phone/call',
      body: { to: '+14155550100', message: 'fixture', record: true },
    });
    await this.t.sandbox.settle(15_000);
    for (let attempt = 0; attempt < 50; attempt++) {
      const listed = await this.must({ method: 'GET', path: `/api/phone/calls/${call.sid}/recordings` });
      const done = (listed.recordings as { sid: string; status: string }[]).find((r) => r.status === 'completed');
      if (done) return done.sid;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`fixture call ${call.sid} has no completed recording`);
  }

  async message(): Promise<string> {
    const sms = await this.must({ method: 'POST', path: '/api/phone/sms', body: { to: '+14155550100', message: 'fixture' } });
    return sms.sid;
  }

  async availableNumber(): Promise<string> {
    if (!this.availableCache.length) {
      const found = await this.must({ method: 'GET', path: '/api/phone/numbers/search', query: { area_code: '415', country: 'US' } });
      const list = (Object.values(found).find(Array.isArray) ?? []) as { phone_number: string }[];
      this.availableCache = list.map((n) => n.phone_number);
    }
    const next = this.availableCache.shift();
    if (!next) throw new Error('the number search returned nothing to buy');
    return next;
  }

  async ownedNumber(): Promise<string> {
    const bought = await this.must({
      method: 'POST',
      path: '/api/phone/numbers/purchase',
      body: { phone_number: await this.availableNumber(), friendly_name: 'fixture' },
    });
    return bought.sid;
  }

  /** An event endpoint, disabled so that nothing is delivered in the background. */
  async eventEndpoint(): Promise<string> {
    const created = await this.must({
      method: 'POST',
      path: '/api/phone/event-endpoints',
      body: { url: 'https://example.com/hooks', event_types: ['*'], enabled: false },
    });
    return created.id;
  }

  /** An assistant whose agent is never asked (nothing routes to it). */
  async assistant(): Promise<string> {
    const created = await this.must({
      method: 'POST',
      path: '/api/phone/assistants',
      body: { name: 'fixture', agent_url: 'https://agents.example.com/fixture' },
    });
    return created.id as string;
  }

  /** An event: placing a call records call.initiated with it. */
  async event(): Promise<string> {
    await this.activeCall();
    const listed = await this.must({ method: 'GET', path: '/api/phone/events', query: { limit: 1 } });
    return (listed.events as { id: string }[])[0].id;
  }

  /** A campaign that starts in an hour: nothing is dialed while the specs use it. */
  async campaign(state: 'scheduled' | 'paused' = 'scheduled'): Promise<string> {
    const created = await this.must({
      method: 'POST',
      path: '/api/phone/campaigns',
      body: {
        name: 'fixture',
        message: 'fixture',
        recipients: [{ to: '+14155550100' }],
        start_at: new Date(Date.now() + 3600_000).toISOString(),
      },
    });
    if (state === 'paused') await this.must({ method: 'POST', path: `/api/phone/campaigns/${created.id}/pause` });
    return created.id as string;
  }

  /**
   * A live resource for a SID path parameter, or undefined. The kind comes from the documented
   * example (CA..., SM..., PN...), else from the one SID prefix the pattern accepts.
   */
  async forParameter(schema: Schema): Promise<string | undefined> {
    const makers: Record<string, () => Promise<string>> = {
      CA: () => this.activeCall(),
      SM: () => this.message(),
      MM: () => this.message(),
      PN: () => this.ownedNumber(),
      RE: () => this.recording(),
    };
    if (schema.format === 'uuid') return this.eventEndpoint();
    if (schema.pattern?.includes('evt_')) return this.event();
    const re = schema.pattern ? new RegExp(schema.pattern) : null;
    const example = typeof schema.example === 'string' ? schema.example : '';
    const fromExample = /^[A-Z]{2}[0-9a-fA-F]{32}$/.test(example) ? example.slice(0, 2) : undefined;
    if (fromExample && makers[fromExample] && (!re || re.test(example))) return makers[fromExample]();
    if (!re) return undefined;
    const accepted = [
      ...new Set(
        Object.keys(makers)
          .filter((p) => re.test(`${p}${'0'.repeat(32)}`))
          .map((p) => (p === 'MM' ? 'SM' : p)),
      ),
    ];
    return accepted.length === 1 ? makers[accepted[0]]() : undefined;
  }

  /** Ends the calls left in progress so the sandbox can settle. */
  async cleanup(): Promise<void> {
    for (const sid of this.activeCalls.splice(0)) {
      await send(this.t.baseUrl, { method: 'POST', path: `/api/phone/calls/${sid}/hangup`, token: this.admin });
    }
  }
}

export interface BuiltRequest extends RequestSpec {
  op: Operation;
}

type Override = (fx: Fixtures, base: BuiltRequest) => Promise<Partial<BuiltRequest>>;

/** Operations whose documented examples cannot succeed on their own, and why. */
export const OVERRIDES: Record<string, Override> = {
  // Twilio sells only numbers it offers: take one from a search instead of the example number.
  purchaseNumber: async (fx, base) => ({ body: { ...(base.body as object), phone_number: await fx.availableNumber() } }),
  // a campaign needs its recipients and exactly one content; later, so that nothing is dialed
  createCampaign: async () => ({
    body: {
      name: 'fixture',
      message: 'Hello',
      recipients: [{ to: '+14155550100' }],
      start_at: new Date(Date.now() + 3600_000).toISOString(),
    },
  }),
  // speaking on a call needs one that is answered
  sayOnCall: async (fx) => ({ path: `/api/phone/calls/${await fx.answeredCall()}/say` }),
  getAssistant: async (fx) => ({ path: `/api/phone/assistants/${await fx.assistant()}` }),
  updateAssistant: async (fx) => ({ path: `/api/phone/assistants/${await fx.assistant()}` }),
  deleteAssistant: async (fx) => ({ path: `/api/phone/assistants/${await fx.assistant()}` }),
  rotateAssistantSecret: async (fx) => ({ path: `/api/phone/assistants/${await fx.assistant()}/rotate-secret` }),
  getCampaign: async (fx) => ({ path: `/api/phone/campaigns/${await fx.campaign()}` }),
  listCampaignRecipients: async (fx) => ({ path: `/api/phone/campaigns/${await fx.campaign()}/recipients` }),
  pauseCampaign: async (fx) => ({ path: `/api/phone/campaigns/${await fx.campaign()}/pause` }),
  cancelCampaign: async (fx) => ({ path: `/api/phone/campaigns/${await fx.campaign()}/cancel` }),
  resumeCampaign: async (fx) => ({ path: `/api/phone/campaigns/${await fx.campaign('paused')}/resume` }),
};

function isForm(op: Operation): boolean {
  return Boolean(op.requestBody?.content['application/x-www-form-urlencoded']);
}

function bodySchema(op: Operation): Schema | undefined {
  if (!op.requestBody) return undefined;
  return (
    op.requestBody.content['application/json'] ??
    op.requestBody.content['application/x-www-form-urlencoded'] ??
    Object.values(op.requestBody.content)[0]
  );
}

/**
 * Candidate requests, most likely to succeed first: required fields only, then with one optional
 * field added at a time (an API may require one of several fields, e.g. message/audio_url/twiml).
 */
export async function candidateRequests(doc: OpenApiDocument, op: Operation, fx: Fixtures): Promise<BuiltRequest[]> {
  const pathParams: Record<string, string> = {};
  for (const p of op.parameters.filter((x) => x.in === 'path')) {
    const schema = deref(doc, p.schema);
    pathParams[p.name] = (await fx.forParameter(schema)) ?? String(p.example ?? exampleOf(doc, schema));
  }
  const query: Record<string, unknown> = {};
  for (const p of op.parameters.filter((x) => x.in === 'query' && x.required)) query[p.name] = p.example ?? exampleOf(doc, p.schema);
  const base: BuiltRequest = { op, method: op.method, path: fillPath(op.path, pathParams), query, encoding: isForm(op) ? 'form' : 'json' };
  const schema = deref(doc, bodySchema(op));
  const bodies: (Record<string, unknown> | undefined)[] = [];
  if (op.requestBody) {
    const required = exampleOf(doc, schema) as Record<string, unknown>;
    bodies.push(required);
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      if (name in required) continue;
      bodies.push({ ...required, [name]: exampleOf(doc, prop) });
    }
  } else {
    bodies.push(undefined);
  }
  const out: BuiltRequest[] = [];
  for (const body of bodies) {
    let req: BuiltRequest = { ...base, body };
    const override = OVERRIDES[op.operationId];
    if (override) req = { ...req, ...(await override(fx, req)) };
    out.push(req);
  }
  return out;
}

/** The URL Twilio would have signed for this request (the service's configured webhook base + the route suffix). */
export function signedUrl(t: TestApp, path: string, query?: Record<string, unknown>): string {
  const base = t.config.twilio.webhookBaseUrl.replace(/\/+$/, '');
  const suffix = path.replace(/^\/api\/phone\/webhook/, '');
  return `${base}${suffix}${queryString(query)}`;
}

export function twilioSignature(t: TestApp, req: RequestSpec): string {
  const params: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
    if (v === undefined) continue;
    params[k] = Array.isArray(v) ? v.map(String) : fieldText(v);
  }
  return twilio.getExpectedTwilioSignature(t.config.twilio.authToken, signedUrl(t, req.path, req.query), params);
}

/** Sends `req` as its caller would: a webhook with a valid Twilio signature, anything else with `token`. */
export async function sendAs(t: TestApp, req: BuiltRequest, token: string | undefined): Promise<HttpResult> {
  if (req.op.isWebhook) {
    return send(t.baseUrl, { ...req, headers: { ...(req.headers ?? {}), 'x-twilio-signature': twilioSignature(t, req) } });
  }
  return send(t.baseUrl, { ...req, token });
}

/** The first candidate that succeeds, with the response; throws naming the operation when none does. */
export async function succeed(
  t: TestApp,
  doc: OpenApiDocument,
  op: Operation,
  fx: Fixtures,
  token: string,
): Promise<{ req: BuiltRequest; res: HttpResult }> {
  const tried: string[] = [];
  for (const req of await candidateRequests(doc, op, fx)) {
    const res = await sendAs(t, req, token);
    if (res.status >= 200 && res.status < 300) return { req, res };
    tried.push(`${JSON.stringify(req.body ?? req.query)} -> ${res.status} ${res.text.slice(0, 200)}`);
    if (res.status === 401 || res.status === 403) break;
  }
  throw new Error(
    `no documented example makes ${op.operationId} (${op.method.toUpperCase()} ${op.path}) succeed; ` +
      `add examples to its DTO or an entry to OVERRIDES in test/openapi/requests.ts. Tried:\n  ${tried.join('\n  ')}`,
  );
}

/** Waits until the sandbox has no call or message in flight and no callback pending. */
export async function settle(t: TestApp): Promise<void> {
  const sandbox = t.sandbox as unknown as { settle?: () => Promise<void> };
  if (typeof sandbox.settle === 'function') await sandbox.settle();
}
