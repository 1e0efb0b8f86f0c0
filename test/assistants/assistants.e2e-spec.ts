import { JsonBody, Reply, fieldsOf, request } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';

/** Assistants over the API: who may manage them, what they default to, which values are refused, and numbers routing to them. */
let t: TestApp;
let admin: string;
let viewer: string;

function api(method: string, path: string, body?: unknown, token: string | null = admin): Promise<Reply> {
  return request(t, method, path, { token, body });
}

const BASE = { name: 'Appointment desk', agent_url: 'https://agents.example.com/appointments' };

async function create(body: Record<string, unknown> = {}): Promise<JsonBody> {
  const res = await api('POST', '/api/phone/assistants', { ...BASE, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

beforeAll(async () => {
  t = await startTestApp();
  admin = t.token(['phone:admin']);
  viewer = t.token(['phone:view']);
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('assistants', () => {
  it('creates an assistant with defaults and shows its secret only in that answer', async () => {
    const created = await create({ first_message: 'Hi, this is Sam from Bright Dental.', metadata: { tenant_id: 'bright' } });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(created.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(created).toMatchObject({
      ...BASE,
      first_message: 'Hi, this is Sam from Bright Dental.',
      greeting: null,
      voice: 'alice',
      language: 'en-US',
      speech: { hints: [], timeout: 5, speech_timeout: 'auto', profanity_filter: true, speech_model: null },
      limits: { max_turns: 50, max_duration_seconds: 1800, silence_limit: 3 },
      end_phrases: [],
      transfer_number: null,
      voicemail_message: null,
      metadata: { tenant_id: 'bright' },
      previous_secret_expires_at: null,
    });
    const read = await api('GET', `/api/phone/assistants/${created.id}`, undefined, viewer);
    expect(read.status).toBe(200);
    expect(read.body.secret).toBeUndefined();
    const list = await api('GET', '/api/phone/assistants', undefined, viewer);
    expect(list.body.assistants.map((a: JsonBody) => a.id)).toContain(created.id);
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
  });

  it('lets phone:view read but not manage', async () => {
    expect((await api('POST', '/api/phone/assistants', BASE, viewer)).status).toBe(403);
    const created = await create();
    expect((await api('PATCH', `/api/phone/assistants/${created.id}`, { name: 'x' }, viewer)).status).toBe(403);
    expect((await api('DELETE', `/api/phone/assistants/${created.id}`, undefined, viewer)).status).toBe(403);
    expect((await api('GET', '/api/phone/assistants', undefined, null)).status).toBe(401);
  });

  it.each([
    [{ agent_url: 'http://127.0.0.1:9000/agent' }, 'agent_url'],
    [{ agent_url: 'http://localhost/agent' }, 'agent_url'],
    [{ agent_url: 'ftp://agents.example.com/x' }, 'agent_url'],
    [{ agent_url: 'http://169.254.169.254/latest' }, 'agent_url'],
    [{ name: '' }, 'name'],
    [{ voice: 'alice<script>' }, 'voice'],
    [{ language: 'english please' }, 'language'],
    [{ speech: { timeout: 0 } }, 'speech.timeout'],
    [{ speech: { speech_timeout: 'soon' } }, 'speech.speech_timeout'],
    [{ speech: { hints: ['ok', 7] } }, 'speech.hints'],
    [{ speech: { profanity_filter: 'yes' } }, 'speech.profanity_filter'],
    [{ speech: 'fast' }, 'speech'],
    [{ limits: { max_turns: 0 } }, 'limits.max_turns'],
    [{ limits: { silence_limit: 1.5 } }, 'limits.silence_limit'],
    [{ end_phrases: 'goodbye' }, 'end_phrases'],
    [{ transfer_number: '555-0111' }, 'transfer_number'],
    [{ first_message: 'Hello\u0007' }, 'first_message'],
    [{ metadata: { tenant: 5 } }, 'metadata.tenant'],
    [{ first_message: null }, 'first_message'],
    [{ secret: 'whsec_mine' }, 'secret'],
  ])('refuses %j with a 400 naming %s', async (body, field) => {
    const res = await api('POST', '/api/phone/assistants', { ...BASE, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(fieldsOf(res.body)).toContain(field);
  });

  it('requires name and agent_url', async () => {
    const res = await api('POST', '/api/phone/assistants', {});
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(expect.arrayContaining(['name', 'agent_url']));
  });

  it('changes only what is sent, merges speech and limits, and clears a message with null', async () => {
    const created = await create({
      greeting: 'Bright Dental, how can I help?',
      speech: { hints: ['appointment'], timeout: 4 },
      limits: { max_turns: 10 },
      transfer_number: '+14155550111',
    });
    const patched = await api('PATCH', `/api/phone/assistants/${created.id}`, {
      greeting: null,
      transfer_number: null,
      speech: { speech_model: 'phone_call' },
      limits: { silence_limit: 2 },
      end_phrases: ['goodbye', "that's all"],
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({
      name: BASE.name,
      greeting: null,
      transfer_number: null,
      speech: { hints: ['appointment'], timeout: 4, speech_model: 'phone_call', speech_timeout: 'auto' },
      limits: { max_turns: 10, silence_limit: 2, max_duration_seconds: 1800 },
      end_phrases: ['goodbye', "that's all"],
    });
    expect((await api('GET', `/api/phone/assistants/${created.id}`)).body).toMatchObject({ greeting: null, limits: { silence_limit: 2 } });
    const nullName = await api('PATCH', `/api/phone/assistants/${created.id}`, { name: null });
    expect(nullName.status).toBe(400);
    expect(fieldsOf(nullName.body)).toContain('name');
    const privateUrl = await api('PATCH', `/api/phone/assistants/${created.id}`, { agent_url: 'http://10.0.0.5/agent' });
    expect(privateUrl.status).toBe(400);
    expect(fieldsOf(privateUrl.body)).toEqual(['agent_url']);
    expect((await api('GET', `/api/phone/assistants/${created.id}`)).body.agent_url).toBe(BASE.agent_url);
  });

  it('rotates the secret, keeping the old one signing for the overlap', async () => {
    const created = await create();
    const rotated = await api('POST', `/api/phone/assistants/${created.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    expect(new Date(rotated.body.previous_secret_expires_at).getTime()).toBeGreaterThan(Date.now());
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await api('GET', `/api/phone/assistants/${unknown}`)).status).toBe(404);
    expect((await api('PATCH', `/api/phone/assistants/${unknown}`, { name: 'x' })).status).toBe(404);
    expect((await api('DELETE', `/api/phone/assistants/${unknown}`)).status).toBe(404);
    const bad = await api('GET', '/api/phone/assistants/not-an-id');
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['id']);
  });
});

describe('numbers routed to an assistant', () => {
  let numberSid: string;

  beforeAll(async () => {
    const bought = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550177' });
    expect(bought.status, JSON.stringify(bought.body)).toBe(201);
    numberSid = bought.body.sid;
    expect(bought.body.assistant_id).toBeNull();
  });

  it('sets, shows and clears a number assistant_id; refuses an unknown or malformed one', async () => {
    const assistant = await create();
    const set = await api('PATCH', `/api/phone/numbers/${numberSid}`, { assistant_id: assistant.id });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ sid: numberSid, assistant_id: assistant.id, friendly_name: expect.any(String) });
    const listed = await api('GET', '/api/phone/numbers');
    expect(listed.body.numbers.find((n: JsonBody) => n.sid === numberSid).assistant_id).toBe(assistant.id);

    const unknown = await api('PATCH', `/api/phone/numbers/${numberSid}`, { assistant_id: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(404);
    expect(fieldsOf(unknown.body)).toEqual(['assistant_id']);
    const malformed = await api('PATCH', `/api/phone/numbers/${numberSid}`, { assistant_id: 'sam' });
    expect(malformed.status).toBe(400);
    expect(fieldsOf(malformed.body)).toEqual(['assistant_id']);
    // the refused changes left the routing alone
    expect((await api('GET', '/api/phone/numbers')).body.numbers.find((n: JsonBody) => n.sid === numberSid).assistant_id).toBe(
      assistant.id,
    );

    const inUse = await api('DELETE', `/api/phone/assistants/${assistant.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.message).toContain(numberSid);

    const cleared = await api('PATCH', `/api/phone/numbers/${numberSid}`, { assistant_id: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.assistant_id).toBeNull();
    const deleted = await api('DELETE', `/api/phone/assistants/${assistant.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.id).toBe(assistant.id);
    expect((await api('GET', `/api/phone/assistants/${assistant.id}`)).status).toBe(404);
  });

  it('still refuses null for fields that are not clearable', async () => {
    const res = await api('PATCH', `/api/phone/numbers/${numberSid}`, { friendly_name: null });
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(['friendly_name']);
  });
});
