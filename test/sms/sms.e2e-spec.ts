import { MessageRecordsService } from '../../src/sms/message-records.service';
import { OptOutRepository } from '../../src/sms/opt-out.repository';
import { JsonBody, Reply, fieldsOf, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';
import { twilioCallbackUrl } from '../../src/common/twilio-callback-url';

/**
 * SMS through HTTP against the in-process sandbox. Statuses reach a record through the status
 * webhook and through the read-time refresh; this app refreshes on every read
 * (CALL_REFRESH_AFTER_SECONDS=0, which governs messages too) so the tests do not depend on the
 * webhooks module alone, and so prices (which callbacks never carry) show up without the reconciler.
 */
let t: TestApp;
let smsToken: string;
let viewToken: string;

function api(method: string, path: string, options: { token?: string | null; body?: unknown } = {}): Promise<Reply> {
  return request(t, method, path, { ...options, token: options.token === undefined ? smsToken : options.token });
}

async function send(body: Record<string, unknown>): Promise<JsonBody> {
  const res = await api('POST', '/api/phone/sms', { body: { to: '+14155550100', ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function getSms(sid: string): Promise<JsonBody> {
  const res = await api('GET', `/api/phone/sms/${sid}`, { token: viewToken });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

function waitForSms(sid: string, until: (m: JsonBody) => boolean): Promise<JsonBody> {
  return eventually(
    async () => {
      const m = await getSms(sid);
      return until(m) ? m : null;
    },
    15_000,
    100,
  );
}

function history(query: string, token = viewToken): Promise<Reply> {
  return api('GET', `/api/phone/sms/history${query ? `?${query}` : ''}`, { token });
}

const sidsOf = (res: Reply) => res.body.messages.map((m: { sid: string }) => m.sid);
const UNKNOWN_SID = `SM${'0'.repeat(32)}`;

beforeAll(async () => {
  t = await startTestApp({ CALL_REFRESH_AFTER_SECONDS: '0' });
  smsToken = t.token(['phone:sms'], 'texter-1');
  viewToken = t.token(['phone:view']);
});

afterAll(async () => {
  await t?.close();
});

describe("the guide's curl", () => {
  it('Sending SMS Messages (with a valid number) answers 201 with the message', async () => {
    const res = await api('POST', '/api/phone/sms', {
      body: { to: '+14155550100', message: 'Hello! This is a message from Samsaek AI Assistant.', agent_name: 'Samsaek Bot' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      direction: 'outbound',
      from: t.config.twilio.phoneNumber,
      to: '+14155550100',
      body: 'Hello! This is a message from Samsaek AI Assistant.',
      segments: 1,
      media_urls: [],
      agent_name: 'Samsaek Bot',
      created_by: 'texter-1',
    });
    expect(res.body.sid).toMatch(/^SM[0-9a-f]{32}$/);
    const truth = t.sandbox.messages().find((m) => m.sid === res.body.sid)!;
    expect(truth.statusCallback).toBe(twilioCallbackUrl(t.config.twilio, '/status', { record_id: res.body.id }));
  });

  it("the guide's placeholder +1987654321 is refused with 400 naming to", async () => {
    const res = await api('POST', '/api/phone/sms', {
      body: { to: '+1987654321', message: 'Hello! This is a message from Samsaek AI Assistant.', agent_name: 'Samsaek Bot' },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_phone_number');
    expect(fieldsOf(res.body)).toEqual(['to']);
  });
});

describe('POST /api/phone/sms', () => {
  it.each([
    ['GSM-7, 160 characters', 'a'.repeat(160), 1],
    ['GSM-7, 161 characters', 'a'.repeat(161), 2],
    ['GSM-7, 307 characters', 'a'.repeat(307), 3],
    ['UCS-2, 70 characters', '안'.repeat(70), 1],
    ['UCS-2, 71 characters', '안'.repeat(71), 2],
    ['UCS-2 because of one emoji', `${'a'.repeat(70)}🙂`, 2],
  ])('%s is %i segment(s)', async (_name, message, segments) => {
    const sent = await send({ message });
    expect(sent.segments).toBe(segments);
    expect(sent.body).toBe(message);
    expect((await getSms(sent.sid)).segments).toBe(segments);
  });

  it('is followed to delivered with a price per segment and a timeline', async () => {
    const sent = await send({ message: 'a'.repeat(161), to: '+14155550140' });
    const done = await waitForSms(sent.sid, (m) => m.status === 'delivered' && m.price !== null);
    expect(done.price).toMatch(/^-\d+\.\d+$/);
    expect(Number(done.price)).toBeCloseTo(-0.015, 5);
    expect(done.price_unit).toBe('USD');
    expect(done.sent_at).not.toBeNull();
    // Callbacks carry the sandbox's accelerated clock, so only membership is compared, not order.
    const statuses = done.timeline.map((e: { status: string }) => e.status);
    expect(statuses).toEqual(expect.arrayContaining(['queued', 'delivered']));
    expect(done.timeline.find((e: { status: string }) => e.status === 'queued').source).toBe('api');
  });

  it.each([
    ['+14155552222', 'undelivered', 30003],
    ['+14155553333', 'failed', 30008],
  ])('a message to %s ends %s with error %i', async (to, status, code) => {
    const sent = await send({ to, message: 'hi' });
    const done = await waitForSms(sent.sid, (m) => m.status === status);
    expect(done.error_code).toBe(code);
  });

  it('sends media without a body (MMS)', async () => {
    const sent = await send({ media_url: ['https://cdn.example.com/a.png', 'https://cdn.example.com/b.png'] });
    expect(sent.media_urls).toEqual(['https://cdn.example.com/a.png', 'https://cdn.example.com/b.png']);
    expect(sent.body).toBe('');
    expect(t.sandbox.messages().find((m) => m.sid === sent.sid)!.mediaUrls).toHaveLength(2);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['neither message nor media_url', {}, ['message']],
    ['an empty message', { message: '' }, ['message']],
    ['1601 characters', { message: 'x'.repeat(1601) }, ['message']],
    [
      '11 media URLs',
      { message: 'hi', media_url: Array.from({ length: 11 }, (_, i) => `https://cdn.example.com/${i}.png`) },
      ['media_url'],
    ],
    ['an ftp media URL', { message: 'hi', media_url: ['ftp://cdn.example.com/a.png'] }, ['media_url']],
    ['media_url as a string', { message: 'hi', media_url: 'https://cdn.example.com/a.png' }, ['media_url']],
    ['from +1234567890', { message: 'hi', from: '+1234567890' }, ['from']],
    ['an unknown field', { message: 'hi', extra: true }, ['extra']],
  ])('refuses %s with 400 naming %j', async (_name, content, fields) => {
    const before = t.sandbox.messages().length;
    const res = await api('POST', '/api/phone/sms', { body: { to: '+14155550141', ...content } });
    expect(res.status).toBe(400);
    expect([...new Set(fieldsOf(res.body))]).toEqual(fields);
    expect(t.sandbox.messages().length).toBe(before);
  });

  it('accepts exactly 1600 characters', async () => {
    const sent = await send({ message: 'b'.repeat(1600) });
    expect(sent.segments).toBe(11);
  });

  it('refuses a recipient who opted out, before asking Twilio', async () => {
    await t.app.get(OptOutRepository).set('+14155550178', true, 'STOP', new Date());
    const res = await api('POST', '/api/phone/sms', { body: { to: '+14155550178', message: 'hi' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('recipient_opted_out');
    expect(fieldsOf(res.body)).toEqual(['to']);
    expect(t.sandbox.messages().some((m) => m.to === '+14155550178')).toBe(false);
  });

  it.each([
    ['to', '+15005550001', 21211],
    ['to', '+15005550002', 21612],
    ['to', '+15005550003', 21408],
    ['to', '+15005550004', 21610],
    ['to', '+15005550009', 21614],
    ['from', '+15005550001', 21212],
    ['from', '+15005550007', 21606],
    ['from', '+15005550008', 21611],
  ])('Twilio refuses %s %s with code %i: 400 with twilio_code, nothing stored', async (field, number, code) => {
    const body = field === 'to' ? { to: number, message: 'hi' } : { to: '+14155550142', from: number, message: 'hi' };
    const res = await api('POST', '/api/phone/sms', { body });
    expect(res.status).toBe(400);
    expect(res.body.twilio_code).toBe(code);
    expect(fieldsOf(res.body)).toEqual([field]);
    expect(sidsOf(await history(`${field}=${encodeURIComponent(number)}`))).toEqual([]);
  });
});

describe('GET /api/phone/sms/:sid', () => {
  it('answers 404 for an unknown sid, well-formed or not, and 400 for one that cannot be a sid', async () => {
    expect((await api('GET', `/api/phone/sms/${UNKNOWN_SID}`, { token: viewToken })).status).toBe(404);
    const mm = await api('GET', `/api/phone/sms/MM${'0'.repeat(32)}`, { token: viewToken });
    expect(mm.status).toBe(404);
    expect(mm.body.code).toBe('not_found');
    for (const unknown of [`CA${'0'.repeat(32)}`, 'SM123', `SM${'g'.repeat(32)}`]) {
      expect((await api('GET', `/api/phone/sms/${unknown}`, { token: viewToken })).status).toBe(404);
    }
    for (const bad of ['S', 'SM-123', 'x'.repeat(65)]) {
      const res = await api('GET', `/api/phone/sms/${bad}`, { token: viewToken });
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toEqual(['sid']);
    }
  });
});

describe('GET /api/phone/sms/history', () => {
  it('pages newest first with next_cursor across 3 pages', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) sids.push((await send({ message: `page ${i}`, agent_name: 'pager' })).sid);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await history(`agent_name=pager&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      pages++;
      seen.push(...sidsOf(res));
      cursor = res.body.next_cursor;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...sids].reverse());
  });

  describe('filters', () => {
    let a: JsonBody;
    let b: JsonBody;
    beforeAll(async () => {
      a = await send({ to: '+14155550151', message: 'filter a', agent_name: 'sms-filter-a' });
      b = await send({ to: '+14155553333', message: 'filter b', agent_name: 'sms-filter-b' });
      await waitForSms(b.sid, (m) => m.status === 'failed');
    });

    it('agent_name, to, from, status and direction', async () => {
      expect(sidsOf(await history('agent_name=sms-filter-a'))).toEqual([a.sid]);
      expect(sidsOf(await history('to=%2B14155550151'))).toEqual([a.sid]);
      expect(sidsOf(await history('to=+14155550151'))).toEqual([a.sid]);
      expect(sidsOf(await history(`from=${encodeURIComponent(t.config.twilio.phoneNumber)}&agent_name=sms-filter-b`))).toEqual([b.sid]);
      expect(sidsOf(await history('from=%2B14155550123'))).toEqual([]);
      expect(sidsOf(await history('status=failed&agent_name=sms-filter-b'))).toEqual([b.sid]);
      expect(sidsOf(await history('status=failed&agent_name=sms-filter-a'))).toEqual([]);
      expect(sidsOf(await history('direction=outbound&agent_name=sms-filter-a'))).toEqual([a.sid]);
      expect(sidsOf(await history('direction=inbound&agent_name=sms-filter-a'))).toEqual([]);
    });

    it('since and until', async () => {
      const created = new Date(a.created_at);
      const q = (s: string) => history(`${s}&agent_name=sms-filter-a`).then(sidsOf);
      expect(await q(`since=${encodeURIComponent(created.toISOString())}`)).toEqual([a.sid]);
      expect(await q(`since=${encodeURIComponent(new Date(created.getTime() + 1).toISOString())}`)).toEqual([]);
      expect(await q(`until=${encodeURIComponent(created.toISOString())}`)).toEqual([]);
      expect(await q(`until=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([a.sid]);
    });

    it.each([
      ['since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z', 'since'],
      ['since=soon', 'since'],
      ['status=lost', 'status'],
      ['direction=up', 'direction'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['cursor=garbage', 'cursor'],
      ['workflow_id=x', 'workflow_id'],
    ])('refuses %s with 400 naming %s', async (query, field) => {
      const res = await history(query);
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toContain(field);
    });
  });
});

describe('storing a message whose status callback arrived first', () => {
  it("keeps the request's fields and the callback's newer status when Twilio's answer is stored last", async () => {
    const records = t.app.get(MessageRecordsService);
    const sid = `SM${'e'.repeat(32)}`;
    const intent = await records.createIntent({
      direction: 'outbound',
      fromNumber: '+14155550199',
      toNumber: '+14155550100',
      body: 'late body',
      mediaUrls: ['https://cdn.example.com/late.png'],
      agentName: 'late',
      createdBy: 'texter-1',
    });
    // the callback (URL with record_id) names the sid and applies its status before the send answer is stored
    expect(await records.attachIntentSid(intent.id, sid)).toBe(true);
    expect(await records.observe(sid, { status: 'sent' }, 'webhook')).toBe(true);
    const completed = await records.completeIntent(
      intent.id,
      {
        sid,
        direction: 'outbound',
        from: '+14155550199',
        to: '+14155550100',
        body: 'late body',
        status: 'queued',
        segments: 1,
        mediaCount: 1,
        errorCode: null,
        errorMessage: null,
        price: null,
        priceUnit: null,
        dateSent: null,
        dateCreated: new Date(),
      },
      'api',
    );
    expect(completed).toMatchObject({
      id: intent.id,
      sid,
      status: 'sent',
      body: 'late body',
      mediaUrls: ['https://cdn.example.com/late.png'],
      agentName: 'late',
      createdBy: 'texter-1',
    });
    expect(await getSms(sid)).toMatchObject({
      id: intent.id,
      status: 'sent',
      body: 'late body',
      agent_name: 'late',
      created_by: 'texter-1',
    });
  });
});

describe('permissions', () => {
  const endpoints: { name: string; method: string; path: string; body?: unknown; needs: string; ok: number }[] = [
    { name: 'sendSms', method: 'POST', path: '/api/phone/sms', body: { to: '+14155550160', message: 'hi' }, needs: 'phone:sms', ok: 201 },
    { name: 'getSmsHistory', method: 'GET', path: '/api/phone/sms/history', needs: 'phone:view', ok: 200 },
    { name: 'getSms', method: 'GET', path: `/api/phone/sms/${UNKNOWN_SID}`, needs: 'phone:view', ok: 404 },
  ];
  const others = (needs: string) => ['phone:view', 'phone:call', 'phone:sms'].filter((p) => p !== needs);

  for (const e of endpoints) {
    it(`${e.name}: allowed with ${e.needs} and with phone:admin, 401 without a token, 403 without ${e.needs}`, async () => {
      expect((await api(e.method, e.path, { token: t.token([e.needs]), body: e.body })).status).toBe(e.ok);
      expect((await api(e.method, e.path, { token: t.token(['phone:admin']), body: e.body })).status).toBe(e.ok);
      const anonymous = await api(e.method, e.path, { token: null, body: e.body });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.code).toBe('unauthorized');
      const lacking = await api(e.method, e.path, { token: t.token(others(e.needs)), body: e.body });
      expect(lacking.status).toBe(403);
      expect(lacking.body.code).toBe('forbidden');
    });
  }
});
