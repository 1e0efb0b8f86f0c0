import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, expectListSchema, expectRestError, expectSchema, sdkFor, startSandbox } from './sandbox-helpers';

const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/;

describe('Twilio 2010-04-01 REST surface through the twilio SDK', () => {
  let sandbox: TwilioSandbox;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  it('refuses a wrong auth token with 401 / 20003 and an error body of exactly four keys', async () => {
    const { client, http } = sdkFor(sandbox, { authToken: 'not-the-token' });
    await expectRestError(client.calls.list(), 401, 20003);
    expect(Object.keys(http.last().body as object).sort()).toEqual(['code', 'message', 'more_info', 'status']);
    expect(http.last().body).toMatchObject({ code: 20003, status: 401 });
  });

  it('creates a call with 201, repeated StatusCallbackEvent keys and boolean Record, matching the call schema', async () => {
    const { client, http } = sdkFor(sandbox);
    const call = await client.calls.create({
      to: CUSTOMER,
      from: OWNED,
      url: 'http://127.0.0.1:9/twiml',
      statusCallback: 'http://127.0.0.1:9/status',
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      record: true,
      timeout: 20,
      machineDetection: 'Enable',
    });
    const raw = http.last();
    expect(raw.statusCode).toBe(201);
    expectSchema('call', raw.body);
    expect(raw.body).toMatchObject({ status: 'queued', price: null, duration: null, start_time: null, direction: 'outbound-api' });
    expect(typeof (raw.body as Record<string, unknown>).queue_time).toBe('string');
    expect(call.dateCreated).toBeInstanceOf(Date);
    expect((raw.body as Record<string, string>).date_created).toMatch(RFC2822);
    const seen = sandbox.calls().find((c) => c.sid === call.sid);
    expect(seen).toMatchObject({
      statusCallbackEvents: ['initiated', 'ringing', 'answered', 'completed'],
      record: true,
      timeout: 20,
      machineDetection: 'Enable',
    });
  });

  it('fetches (200), lists with filters and pages whose next_page_uri keeps the filters', async () => {
    const { client, http } = sdkFor(sandbox);
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) {
      sids.push((await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response><Hangup/></Response>' })).sid);
    }
    await client.calls.create({ to: '+14155550143', from: OWNED, twiml: '<Response/>' });
    const fetched = await client.calls(sids[0]).fetch();
    expect(http.last().statusCode).toBe(200);
    expect(fetched.sid).toBe(sids[0]);

    http.exchanges.length = 0;
    const listed = await client.calls.list({ to: CUSTOMER, pageSize: 2 });
    expect(listed.map((c) => c.sid).sort()).toEqual([...sids].sort());
    expect(http.exchanges).toHaveLength(3);
    for (const exchange of http.exchanges) {
      expect(exchange.statusCode).toBe(200);
      expectListSchema('calls', exchange.body);
    }
    const first = http.exchanges[0].body as Record<string, unknown>;
    expect(first.next_page_uri).toContain('To=%2B14155550142');
    expect(first.next_page_uri).toContain('PageToken=PA');
    expect(first).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null });
    expect((http.exchanges[2].body as Record<string, unknown>).next_page_uri).toBeNull();
  });

  it('filters calls by Status and by StartTime>, StartTime< (dates and datetimes)', async () => {
    const { client, http } = sdkFor(sandbox);
    const done = await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response><Hangup/></Response>' });
    await sandbox.settle();
    await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response/>' });
    const completed = await client.calls.list({ status: 'completed' });
    expect(completed.map((c) => c.sid)).toEqual([done.sid]);

    const started = (await client.calls(done.sid).fetch()).startTime;
    const before = new Date(started.getTime() - 60_000);
    const after = new Date(started.getTime() + 3600_000);
    expect((await client.calls.list({ startTimeAfter: before })).map((c) => c.sid)).toContain(done.sid);
    expect(Object.keys(http.last().params as object)).toContain('StartTime>');
    expect((await client.calls.list({ startTimeAfter: after })).map((c) => c.sid)).not.toContain(done.sid);
    expect((await client.calls.list({ startTimeBefore: before })).map((c) => c.sid)).toEqual([]);
    const day = started.toISOString().slice(0, 10);
    const byDay = await client.request({
      method: 'get',
      uri: `https://api.twilio.com/2010-04-01/Accounts/${sandbox.accountSid}/Calls.json?StartTime=${day}`,
    });
    expect(byDay.statusCode).toBe(200);
    const body = typeof byDay.body === 'string' ? JSON.parse(byDay.body) : byDay.body;
    expect(body.calls.map((c: { sid: string }) => c.sid)).toContain(done.sid);
  });

  it('hangs up with Status=completed, cancels a queued call, deletes with 204 and 404s afterwards', async () => {
    const { client, http } = sdkFor(sandbox);
    const held = await client.calls.create({ to: '+14155555555', from: OWNED, twiml: '<Response><Say>hold on</Say></Response>' });
    await vi.waitFor(async () => expect((await client.calls(held.sid).fetch()).status).toBe('in-progress'), { timeout: 5000 });
    const ended = await client.calls(held.sid).update({ status: 'completed' });
    expect(http.last().statusCode).toBe(200);
    expect(ended.status).toBe('completed');

    const slow = await startSandbox({ speed: 1 });
    try {
      const c = sdkFor(slow).client;
      const queued = await c.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response/>' });
      expect((await c.calls(queued.sid).update({ status: 'canceled' })).status).toBe('canceled');
    } finally {
      await slow.stop();
    }

    expect(await client.calls(held.sid).remove()).toBe(true);
    expect(http.last().statusCode).toBe(204);
    await expectRestError(client.calls(held.sid).fetch(), 404, 20404);
  });

  it('validates call parameters with Twilio codes', async () => {
    const { client } = sdkFor(sandbox);
    await expectRestError(client.calls.create({ to: CUSTOMER, from: '+14155550100', twiml: '<Response/>' }), 400, 21210);
    await expectRestError(client.calls.create({ to: '+1415555', from: OWNED, twiml: '<Response/>' }), 400, 21217);
    await expectRestError(client.calls.create({ to: CUSTOMER, from: OWNED }), 400, 21205);
  });

  it('creates, fetches and lists messages with the message schema', async () => {
    const { client, http } = sdkFor(sandbox);
    const message = await client.messages.create({
      to: CUSTOMER,
      from: OWNED,
      body: 'Hello from the sandbox',
      mediaUrl: ['https://example.com/a.png', 'https://example.com/b.png'],
    });
    expect(http.last().statusCode).toBe(201);
    expectSchema('message', http.last().body);
    expect(http.last().body).toMatchObject({ status: 'queued', num_media: '2', num_segments: '1', price: null, error_code: null });
    expect(sandbox.messages()[0].mediaUrls).toEqual(['https://example.com/a.png', 'https://example.com/b.png']);
    const fetched = await client.messages(message.sid).fetch();
    expect(http.last().statusCode).toBe(200);
    expect(fetched.body).toBe('Hello from the sandbox');
    await client.messages.create({ to: '+14155550143', from: OWNED, body: 'other' });
    const listed = await client.messages.list({ to: CUSTOMER });
    expectListSchema('messages', http.last().body);
    expect(listed.map((m) => m.sid)).toEqual([message.sid]);
  });

  it('validates message parameters with Twilio codes', async () => {
    const { client } = sdkFor(sandbox);
    await expectRestError(client.messages.create({ to: CUSTOMER, from: '+14155550100', body: 'x' }), 400, 21606);
    await expectRestError(client.messages.create({ to: '12', from: OWNED, body: 'x' }), 400, 21211);
    await expectRestError(client.messages.create({ to: CUSTOMER, from: OWNED }), 400, 21619);
  });
});
