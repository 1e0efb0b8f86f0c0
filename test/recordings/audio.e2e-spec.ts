import { JsonBody, request } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';

/**
 * GET /api/phone/recordings/{sid}/audio: a recording's audio with our bearer token alone, streamed
 * from the sandbox's Twilio media with the service's credentials; Twilio's failures in our error shape.
 */
describe('recording audio', () => {
  let t: TestApp;
  let viewer: string;
  let recordingSid: string;
  let audioUrl: string;

  beforeAll(async () => {
    // TWILIO_TIMEOUT_MS short, so that a Twilio that never answers fails the download quickly
    t = await startTestApp({ TWILIO_TIMEOUT_MS: '1500' });
    viewer = t.token(['phone:view']);
    const placed = await request(t, 'POST', '/api/phone/call', {
      token: t.token(['phone:call']),
      body: { to: '+14155550100', message: 'one two three four five six seven eight nine ten', record: true },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    await t.sandbox.settle(15_000);
    const listed = await request(t, 'GET', `/api/phone/calls/${placed.body.sid}/recordings`, { token: viewer });
    expect(listed.body.recordings).toHaveLength(1);
    recordingSid = listed.body.recordings[0].sid;
    audioUrl = listed.body.recordings[0].url;
  });
  afterEach(() => t.sandbox.setFaults({}));
  afterAll(async () => t?.close());

  const get = (query = '', headers: Record<string, string> = {}, token: string | null = viewer) =>
    fetch(`${audioUrl}${query}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

  it('serves WAV by default, byte for byte what Twilio serves', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/x-wav');
    expect(res.headers.get('content-disposition')).toBe(`inline; filename="${recordingSid}.wav"`);
    const body = Buffer.from(await res.arrayBuffer());
    const twilio = Buffer.from(
      await (await fetch(`${t.sandbox.baseUrl}/2010-04-01/Accounts/${t.sandbox.accountSid}/Recordings/${recordingSid}.wav`)).arrayBuffer(),
    );
    expect(body.length).toBeGreaterThan(44);
    expect(body).toEqual(twilio);
    expect(Number(res.headers.get('content-length'))).toBe(body.length);
  });

  it('serves MP3 with ?format=mp3 or when the Accept header prefers audio/mpeg', async () => {
    for (const res of [await get('?format=mp3'), await get('', { accept: 'audio/mpeg, audio/wav;q=0.5' })]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('audio/mpeg');
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.length).toBeGreaterThan(0);
      expect(body.readUInt16BE(0) >>> 5).toBe(0x7ff); // an MPEG audio frame sync
    }
    expect((await get('', { accept: '*/*' })).headers.get('content-type')).toBe('audio/x-wav');
  });

  it('passes a byte range on for seeking: 206 with Content-Range, 416 outside the file', async () => {
    const whole = Buffer.from(await (await get()).arrayBuffer());
    const part = await get('', { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${whole.length}`);
    expect(part.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(100, 200));
    const outside = await get('', { range: `bytes=${whole.length + 1}-` });
    expect(outside.status).toBe(416);
    expect(await outside.json()).toMatchObject({ code: 'range_not_satisfiable', statusCode: 416 });
  });

  it('answers 404 for a recording we do not store, 400 for a bad sid or format, 401 without a token', async () => {
    const unknown = await request(t, 'GET', `/api/phone/recordings/RE${'0'.repeat(32)}/audio`, { token: viewer });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'not_found', message: `Recording RE${'0'.repeat(32)} not found` });
    expect((await request(t, 'GET', '/api/phone/recordings/RE-x/audio', { token: viewer })).status).toBe(400);
    const format = await get('?format=ogg');
    expect(format.status).toBe(400);
    expect(((await format.json()) as JsonBody).details[0].field).toBe('format');
    const anonymous = await get('', {}, null);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as JsonBody).code).toBe('unauthorized');
  });

  it('maps Twilio failing the media to our documented errors: 502, 429, 504', async () => {
    t.sandbox.setFaults({ serverError: 1 });
    const failed = await get();
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ code: 'twilio_unavailable', twilio_code: 20500 });
    t.sandbox.setFaults({ rateLimit: 1 });
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as JsonBody).code).toBe('rate_limited');
    t.sandbox.setFaults({ timeout: 1, timeoutMs: 10_000 });
    const started = Date.now();
    const silent = await get();
    expect(silent.status).toBe(504);
    expect(((await silent.json()) as JsonBody).code).toBe('twilio_timeout');
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
