import { CallRecordsService } from '../../src/calls/call-records.service';
import { OptOutRepository } from '../../src/sms/opt-out.repository';
import { JsonBody, Reply, fieldsOf, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';
import { twilioCallbackUrl } from '../../src/common/twilio-callback-url';

/**
 * Calls through HTTP against the in-process sandbox. Statuses reach a record through the status
 * webhook and through the read-time refresh; this app refreshes on every read
 * (CALL_REFRESH_AFTER_SECONDS=0) so the tests do not depend on the webhooks module alone, and so
 * prices (which callbacks never carry) show up without the reconciler.
 */
let t: TestApp;
let callToken: string;
let viewToken: string;

function api(method: string, path: string, options: { token?: string | null; body?: unknown } = {}): Promise<Reply> {
  return request(t, method, path, { ...options, token: options.token === undefined ? callToken : options.token });
}

async function placeCall(body: Record<string, unknown>): Promise<JsonBody> {
  const res = await api('POST', '/api/phone/call', { body: { message: 'Hello from the test suite.', ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function getCall(sid: string): Promise<JsonBody> {
  const res = await api('GET', `/api/phone/calls/${sid}`, { token: viewToken });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Reads the call until `until` holds (each read refreshes it from Twilio). */
function waitForCall(sid: string, until: (call: JsonBody) => boolean, timeoutMs = 15_000): Promise<JsonBody> {
  return eventually(
    async () => {
      const call = await getCall(sid);
      return until(call) ? call : null;
    },
    timeoutMs,
    100,
  );
}

async function history(query: string, token = viewToken): Promise<Reply> {
  return api('GET', `/api/phone/calls/history${query ? `?${query}` : ''}`, { token });
}

const UNKNOWN_SID = `CA${'0'.repeat(32)}`;

beforeAll(async () => {
  // One caller places more calls here than the default per-minute limit allows.
  t = await startTestApp({ CALL_REFRESH_AFTER_SECONDS: '0', RATE_LIMIT_CALLS: '1000' });
  callToken = t.token(['phone:call'], 'caller-1');
  viewToken = t.token(['phone:view']);
});

afterAll(async () => {
  await t?.close();
});

describe("the guide's curls", () => {
  it('Basic Call (with a valid number) places a recorded call and answers 201 with the call', async () => {
    const res = await api('POST', '/api/phone/call', {
      body: { to: '+14155550100', message: 'Hello! This is Samsaek AI Assistant calling.', agent_name: 'Samsaek Assistant', record: true },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      direction: 'outbound',
      from: t.config.twilio.phoneNumber,
      to: '+14155550100',
      message: 'Hello! This is Samsaek AI Assistant calling.',
      agent_name: 'Samsaek Assistant',
      record: true,
      voice: 'alice',
      language: 'en-US',
      created_by: 'caller-1',
    });
    expect(res.body.sid).toMatch(/^CA[0-9a-f]{32}$/);
    // at the sandbox's test speed the status callbacks may already have been applied by the time we answer
    expect(['queued', 'initiated', 'ringing', 'in-progress', 'completed']).toContain(res.body.status);
    if (res.body.status !== 'completed') expect(res.body.duration).toBeNull();
    expect(res.body.timeline).toBeUndefined();
    const sandboxCall = t.sandbox.calls().find((c) => c.sid === res.body.sid)!;
    expect(sandboxCall.twiml).toContain('<Say voice="alice" language="en-US">Hello! This is Samsaek AI Assistant calling.</Say>');
  });

  it('Advanced Call with voice, language "en", purpose and workflow', async () => {
    const res = await api('POST', '/api/phone/call', {
      body: {
        to: '+14155550100',
        message: 'Welcome to Samsaek! Please hold for an agent.',
        voice: 'alice',
        language: 'en',
        call_purpose: 'customer_support',
        workflow_id: 'support_001',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      language: 'en',
      voice: 'alice',
      call_purpose: 'customer_support',
      workflow_id: 'support_001',
      record: false,
    });
  });

  it.each(['/api/phone/call'])("the guide's placeholder +1987654321 is refused with 400 naming to (%s)", async (path) => {
    const res = await api('POST', path, { body: { to: '+1987654321', message: 'Hello! This is Samsaek AI Assistant calling.' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_phone_number');
    expect(fieldsOf(res.body)).toEqual(['to']);
    expect(res.body.request_id).toBeTruthy();
  });

  it('View Call History answers a page', async () => {
    const res = await history('limit=10');
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.calls)).toBe(true);
    expect(res.body.calls.length).toBeGreaterThan(0);
    expect(res.body.calls.length).toBeLessThanOrEqual(10);
    expect(res.body).toHaveProperty('next_cursor');
  });

  it("Get Call Status / Hangup with the guide's sample sid answer 404: no such call", async () => {
    const get = await api('GET', '/api/phone/calls/CA1234567890abcdef', { token: viewToken });
    expect(get.status).toBe(404);
    expect(get.body).toMatchObject({ code: 'not_found', message: expect.stringContaining('CA1234567890abcdef') });
    const hangup = await api('POST', '/api/phone/calls/CA1234567890abcdef/hangup');
    expect(hangup.status).toBe(404);
    expect(hangup.body.code).toBe('not_found');
    const absurd = await api('GET', `/api/phone/calls/${'x'.repeat(65)}`, { token: viewToken });
    expect(absurd.status).toBe(400);
    expect(fieldsOf(absurd.body)).toEqual(['sid']);
  });
});

describe('POST /api/phone/call', () => {
  it('follows a call to completed with a duration, a price and a timeline', async () => {
    const placed = await placeCall({ to: '+14155550102', message: 'This message is long enough to take a few seconds to say aloud.' });
    const done = await waitForCall(placed.sid, (c) => c.status === 'completed' && c.price !== null);
    expect(done.duration).toBeGreaterThan(0);
    expect(done.price).toMatch(/^-\d+\.\d+$/);
    expect(Number(done.price)).toBeLessThan(0);
    expect(done.price_unit).toBe('USD');
    expect(new Date(done.end_time).getTime()).toBeGreaterThanOrEqual(new Date(done.start_time).getTime());
    // Callbacks carry the sandbox's accelerated clock, so only membership is compared, not order.
    const statuses = done.timeline.map((e: { status: string }) => e.status);
    expect(statuses).toEqual(expect.arrayContaining(['queued', 'completed']));
    expect(done.timeline.find((e: { status: string }) => e.status === 'queued')).toMatchObject({
      source: 'api',
      sequence_number: -1,
      error_code: null,
    });
    const truth = t.sandbox.calls().find((c) => c.sid === placed.sid)!;
    expect(truth.status).toBe('completed');
    expect(done.duration).toBe(truth.duration);
  });

  it('speaks a message too long for inline TwiML by serving it from the voice webhook', async () => {
    const words = Array.from({ length: 1500 }, (_, i) => `word${i}`);
    const placed = await placeCall({ to: '+14155550104', message: words.join(' ') });
    const done = await waitForCall(placed.sid, (c) => c.status === 'completed');
    const truth = t.sandbox.calls().find((c) => c.sid === placed.sid)!;
    expect(truth.url).toBe(twilioCallbackUrl(t.config.twilio, '/call', { record_id: placed.id }));
    const says = truth.executed.filter((v) => v.verb === 'Say');
    expect(says.length).toBeGreaterThan(1);
    expect(says.map((v) => v.text).join(' ')).toBe(words.join(' '));
    expect(done.message).toBe(words.join(' '));
    // 1500 words at 150 per minute
    expect(done.duration).toBeGreaterThanOrEqual(600);
  });

  it('asks Twilio to record, with recording callbacks to the status webhook', async () => {
    const placed = await placeCall({ to: '+14155550103', record: true });
    const truth = t.sandbox.calls().find((c) => c.sid === placed.sid)!;
    expect(truth.record).toBe(true);
    expect(truth.recordingStatusCallback).toBe(twilioCallbackUrl(t.config.twilio, '/status', { record_id: placed.id }));
    expect(truth.statusCallback).toBe(twilioCallbackUrl(t.config.twilio, '/status', { record_id: placed.id }));
    expect([...truth.statusCallbackEvents].sort()).toEqual(['answered', 'completed', 'initiated', 'ringing']);
    const done = await waitForCall(placed.sid, (c) => c.status === 'completed');
    expect(done.record).toBe(true);
    await eventually(async () => t.sandbox.calls().find((c) => c.sid === placed.sid)!.recordingSids.length > 0);
  });

  it.each([
    ['+14155551111', 'busy'],
    ['+14155552222', 'no-answer'],
    ['+14155553333', 'failed'],
  ])('a call to %s ends %s', async (to, outcome) => {
    const placed = await placeCall({ to, timeout: 5 });
    const done = await waitForCall(placed.sid, (c) => c.status === outcome);
    expect(done.duration === null || done.duration === 0).toBe(true);
    expect(done.timeline.map((e: { status: string }) => e.status)).toContain(outcome);
  });

  it('plays audio_url with <Play> and passes timeout and machine detection on', async () => {
    const placed = await placeCall({
      message: undefined,
      to: '+14155554444',
      audio_url: 'https://cdn.example.com/welcome.mp3',
      timeout: 15,
      machine_detection: true,
    });
    expect(placed).toMatchObject({ audio_url: 'https://cdn.example.com/welcome.mp3', message: null, voice: null });
    const truth = t.sandbox.calls().find((c) => c.sid === placed.sid)!;
    expect(truth.twiml).toContain('<Play>https://cdn.example.com/welcome.mp3</Play>');
    expect(truth.timeout).toBe(15);
    expect(truth.machineDetection).toBe('Enable');
    const done = await waitForCall(placed.sid, (c) => c.status === 'completed');
    expect(done.answered_by).toMatch(/^machine/);
  });

  it('runs custom TwiML as given', async () => {
    const twiml =
      '<Response><Play>https://cdn.example.com/a.mp3</Play><Pause length="2"/><Say voice="alice">How can I help you today?</Say></Response>';
    const placed = await placeCall({ message: undefined, to: '+14155550104', twiml });
    expect(placed.twiml).toBe(twiml);
    expect(t.sandbox.calls().find((c) => c.sid === placed.sid)!.twiml).toBe(twiml);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['message and twiml', { message: 'a', twiml: '<Response/>' }, ['message', 'twiml']],
    ['message and audio_url', { message: 'a', audio_url: 'https://cdn.example.com/a.mp3' }, ['message', 'audio_url']],
    ['no content', {}, ['message', 'audio_url', 'twiml', 'assistant_id']],
    ['malformed TwiML', { twiml: '<Response><Say>unclosed</Response>' }, ['twiml']],
    ['TwiML without a <Response> root', { twiml: '<Say>no response root</Say>' }, ['twiml']],
    ['TwiML over 4000 characters', { twiml: `<Response><Say>${'x'.repeat(4000)}</Say></Response>` }, ['twiml']],
    ['a message over 20000 characters', { message: 'x'.repeat(20001) }, ['message']],
    ['an ftp audio_url', { audio_url: 'ftp://cdn.example.com/a.mp3' }, ['audio_url']],
    ['timeout 4', { message: 'hi', timeout: 4 }, ['timeout']],
    ['timeout 601', { message: 'hi', timeout: 601 }, ['timeout']],
    ['record "yes"', { message: 'hi', record: 'yes' }, ['record']],
    ['from +1234567890', { message: 'hi', from: '+1234567890' }, ['from']],
    ['language "english please"', { message: 'hi', language: 'english please' }, ['language']],
    ['an unknown field', { message: 'hi', unknown_field: 1 }, ['unknown_field']],
  ])('refuses %s with 400 naming %j, without calling anyone', async (_name, content, fields) => {
    const before = t.sandbox.calls().length;
    const res = await api('POST', '/api/phone/call', { body: { to: '+14155550105', ...content } });
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(fields);
    expect(t.sandbox.calls().length).toBe(before);
  });

  it('refuses a recipient who opted out, before asking Twilio', async () => {
    await t.app.get(OptOutRepository).set('+14155550177', true, 'STOP', new Date());
    const res = await api('POST', '/api/phone/call', { body: { to: '+14155550177', message: 'hi' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('recipient_opted_out');
    expect(fieldsOf(res.body)).toEqual(['to']);
    expect(t.sandbox.calls().some((c) => c.to === '+14155550177')).toBe(false);
  });

  it.each([
    ['to', '+15005550001', 21217],
    ['to', '+15005550002', 21214],
    ['to', '+15005550003', 21215],
    ['to', '+15005550004', 21216],
    ['from', '+15005550001', 21212],
  ])('Twilio refuses %s %s with code %i: 400 with twilio_code, nothing stored', async (field, number, code) => {
    const body = field === 'to' ? { to: number, message: 'hi' } : { to: '+14155550106', from: number, message: 'hi' };
    const res = await api('POST', '/api/phone/call', { body });
    expect(res.status).toBe(400);
    expect(res.body.twilio_code).toBe(code);
    expect(fieldsOf(res.body)).toEqual([field]);
    const stored = await history(`${field}=${encodeURIComponent(number)}`);
    expect(stored.body.calls).toEqual([]);
  });

  it('Twilio refusing with 429 answers 429 rate_limited and stores nothing', async () => {
    const before = (await history('limit=100')).body.calls.length;
    t.sandbox.setFaults({ rateLimit: 1 });
    try {
      const res = await api('POST', '/api/phone/call', { body: { to: '+14155550107', message: 'hi' } });
      expect(res.status).toBe(429);
      expect(res.body.code).toBe('rate_limited');
    } finally {
      t.sandbox.setFaults({});
    }
    expect((await history('limit=100')).body.calls.length).toBe(before);
  });

  it('Twilio failing with a 500 answers 202 with the record in status unknown (Twilio may have placed it)', async () => {
    t.sandbox.setFaults({ serverError: 1 });
    let res: Reply;
    try {
      res = await api('POST', '/api/phone/call', { body: { to: '+14155550108', message: 'hi' } });
    } finally {
      t.sandbox.setFaults({});
    }
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ sid: null, status: 'unknown', to: '+14155550108', created_by: 'caller-1' });
    const stored = await history('to=%2B14155550108');
    expect(stored.body.calls.map((c: JsonBody) => c.id)).toEqual([res.body.id]);
  });
});

describe('GET /api/phone/calls/:sid', () => {
  it('answers 404 for an unknown sid', async () => {
    const res = await api('GET', `/api/phone/calls/${UNKNOWN_SID}`, { token: viewToken });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });

  it('returns the stored record when the refresh from Twilio fails', async () => {
    const placed = await placeCall({ to: '+14155555555' });
    await waitForCall(placed.sid, (c) => c.status === 'in-progress');
    t.sandbox.setFaults({ serverError: 1 });
    try {
      const res = await api('GET', `/api/phone/calls/${placed.sid}`, { token: viewToken });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('in-progress');
    } finally {
      t.sandbox.setFaults({});
    }
    await api('POST', `/api/phone/calls/${placed.sid}/hangup`);
  });
});

describe('POST /api/phone/calls/:sid/hangup', () => {
  it('hangs up a long call (completed), then answers 409 for the ended call', async () => {
    const placed = await placeCall({ to: '+14155555555' });
    await waitForCall(placed.sid, (c) => c.status === 'in-progress');
    const res = await api('POST', `/api/phone/calls/${placed.sid}/hangup`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sid: placed.sid, status: 'completed' });
    expect(t.sandbox.calls().find((c) => c.sid === placed.sid)!.status).toBe('completed');

    const again = await api('POST', `/api/phone/calls/${placed.sid}/hangup`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('call_already_ended');
  });

  it('cancels a call that is still ringing', async () => {
    const placed = await placeCall({ to: '+14155552222', timeout: 600 });
    await eventually(async () => t.sandbox.calls().find((c) => c.sid === placed.sid)!.status === 'ringing');
    const res = await api('POST', `/api/phone/calls/${placed.sid}/hangup`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('canceled');
    expect(t.sandbox.calls().find((c) => c.sid === placed.sid)!.status).toBe('canceled');
  });

  it('answers 409 for a call that ended on its own (busy)', async () => {
    const placed = await placeCall({ to: '+14155551111' });
    await waitForCall(placed.sid, (c) => c.status === 'busy');
    const res = await api('POST', `/api/phone/calls/${placed.sid}/hangup`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('call_already_ended');
  });

  it('answers 409 when the stored status is stale and Twilio says the call already ended', async () => {
    t.sandbox.setFaults({ callbackDrop: 1 });
    let placed: JsonBody;
    try {
      placed = await placeCall({ to: '+14155551111' });
      await eventually(async () => t.sandbox.calls().find((c) => c.sid === placed.sid)!.status === 'busy');
    } finally {
      t.sandbox.setFaults({});
    }
    const res = await api('POST', `/api/phone/calls/${placed.sid}/hangup`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('call_already_ended');
    expect((await getCall(placed.sid)).status).toBe('busy');
  });

  it('answers 404 for an unknown sid', async () => {
    const res = await api('POST', `/api/phone/calls/${UNKNOWN_SID}/hangup`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });
});

describe('GET /api/phone/calls/history', () => {
  it('pages newest first with next_cursor across 3 pages', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) sids.push((await placeCall({ to: '+14155550110', agent_name: 'pager' })).sid);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await history(`agent_name=pager&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      pages++;
      seen.push(...res.body.calls.map((c: { sid: string }) => c.sid));
      cursor = res.body.next_cursor;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...sids].reverse());
  });

  describe('filters', () => {
    let a: JsonBody;
    let b: JsonBody;
    beforeAll(async () => {
      a = await placeCall({ to: '+14155550131', agent_name: 'filter-a', workflow_id: 'wf-a' });
      b = await placeCall({ to: '+14155551111', agent_name: 'filter-b', workflow_id: 'wf-b' });
      await waitForCall(b.sid, (c) => c.status === 'busy');
    });
    const sidsOf = (res: Reply) => res.body.calls.map((c: { sid: string }) => c.sid);

    it('agent_name, workflow_id, to, from, status and direction', async () => {
      expect(sidsOf(await history('agent_name=filter-a'))).toEqual([a.sid]);
      expect(sidsOf(await history('workflow_id=wf-b'))).toEqual([b.sid]);
      expect(sidsOf(await history('to=%2B14155550131'))).toEqual([a.sid]);
      expect(sidsOf(await history('to=+14155550131'))).toEqual([a.sid]);
      expect(sidsOf(await history(`from=${encodeURIComponent(t.config.twilio.phoneNumber)}&agent_name=filter-b`))).toEqual([b.sid]);
      expect(sidsOf(await history('from=%2B14155550123'))).toEqual([]);
      expect(sidsOf(await history('status=busy&workflow_id=wf-b'))).toEqual([b.sid]);
      expect(sidsOf(await history('status=busy&workflow_id=wf-a'))).toEqual([]);
      expect(sidsOf(await history('direction=outbound&agent_name=filter-a'))).toEqual([a.sid]);
      expect(sidsOf(await history('direction=inbound&agent_name=filter-a'))).toEqual([]);
    });

    it('since and until', async () => {
      const aCreated = new Date(a.created_at);
      const bCreated = new Date(b.created_at);
      const q = (s: string) => history(`${s}&agent_name=filter-a`).then(sidsOf);
      expect(await q(`since=${encodeURIComponent(aCreated.toISOString())}`)).toEqual([a.sid]);
      expect(await q(`since=${encodeURIComponent(new Date(aCreated.getTime() + 1).toISOString())}`)).toEqual([]);
      expect(await q(`until=${encodeURIComponent(aCreated.toISOString())}`)).toEqual([]);
      expect(await q(`until=${encodeURIComponent(new Date(bCreated.getTime() + 1).toISOString())}`)).toEqual([a.sid]);
    });

    it.each([
      ['since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z', 'since'],
      ['since=yesterday', 'since'],
      ['until=2025-13-01', 'until'],
      ['status=bogus', 'status'],
      ['direction=sideways', 'direction'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=abc', 'limit'],
      ['cursor=garbage', 'cursor'],
      ['to=%2B1987654321', 'to'],
      ['colour=blue', 'colour'],
    ])('refuses %s with 400 naming %s', async (query, field) => {
      const res = await history(query);
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toContain(field);
    });
  });
});

describe('storing a call whose status callback arrived first', () => {
  it("keeps the request's fields and the callback's newer status when Twilio's answer is stored last", async () => {
    const records = t.app.get(CallRecordsService);
    const sid = `CA${'e'.repeat(32)}`;
    const intent = await records.createIntent({
      direction: 'outbound',
      fromNumber: '+14155550199',
      toNumber: '+14155550100',
      agentName: 'late',
      message: 'hi',
      createdBy: 'caller-1',
    });
    // the callback (URL with record_id) names the sid and applies its status before the create answer is stored
    expect(await records.attachIntentSid(intent.id, sid)).toBe(true);
    expect(await records.observe(sid, { status: 'ringing', sequence: 1 }, 'webhook')).toBe(true);
    const completed = await records.completeIntent(
      intent.id,
      {
        sid,
        direction: 'outbound',
        from: '+14155550199',
        to: '+14155550100',
        status: 'queued',
        startTime: null,
        endTime: null,
        durationSeconds: null,
        price: null,
        priceUnit: null,
        answeredBy: null,
        queueTimeMs: 0,
        dateCreated: new Date(),
      },
      'api',
    );
    expect(completed).toMatchObject({
      id: intent.id,
      sid,
      status: 'ringing',
      agentName: 'late',
      message: 'hi',
      createdBy: 'caller-1',
      queueTimeMs: 0,
    });
    const dto = await getCall(sid);
    expect(dto).toMatchObject({ id: intent.id, status: 'ringing', agent_name: 'late', created_by: 'caller-1' });
  });
});

describe('permissions', () => {
  const endpoints: { name: string; method: string; path: () => string; body?: unknown; needs: string; ok: number[] }[] = [
    {
      name: 'placeCall',
      method: 'POST',
      path: () => '/api/phone/call',
      body: { to: '+14155550120', message: 'hi' },
      needs: 'phone:call',
      ok: [201],
    },
    { name: 'getCallHistory', method: 'GET', path: () => '/api/phone/calls/history', needs: 'phone:view', ok: [200] },
    { name: 'getCall', method: 'GET', path: () => `/api/phone/calls/${UNKNOWN_SID}`, needs: 'phone:view', ok: [404] },
    { name: 'hangupCall', method: 'POST', path: () => `/api/phone/calls/${UNKNOWN_SID}/hangup`, needs: 'phone:call', ok: [404] },
  ];
  const others = (needs: string) => ['phone:view', 'phone:call', 'phone:sms'].filter((p) => p !== needs);

  for (const e of endpoints) {
    it(`${e.name}: allowed with ${e.needs} and with phone:admin, 401 without a token, 403 without ${e.needs}`, async () => {
      const allowed = await api(e.method, e.path(), { token: t.token([e.needs]), body: e.body });
      expect(e.ok).toContain(allowed.status);
      const admin = await api(e.method, e.path(), { token: t.token(['phone:admin']), body: e.body });
      expect(e.ok).toContain(admin.status);
      const anonymous = await api(e.method, e.path(), { token: null, body: e.body });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.code).toBe('unauthorized');
      const lacking = await api(e.method, e.path(), { token: t.token(others(e.needs)), body: e.body });
      expect(lacking.status).toBe(403);
      expect(lacking.body.code).toBe('forbidden');
    });
  }
});
