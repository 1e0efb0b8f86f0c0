import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, expectListSchema, expectRestError, expectSchema, sdkFor, startSandbox } from './sandbox-helpers';

/** Walks an MP3 byte stream frame by frame (MPEG audio Layer III headers) and returns its length in seconds. */
function mp3Seconds(bytes: Buffer): { frames: number; seconds: number } {
  const BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
  const BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
  const RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };
  let offset = 0;
  let frames = 0;
  let seconds = 0;
  while (offset < bytes.length) {
    const header = bytes.readUInt32BE(offset);
    expect(header >>> 21, `frame sync at byte ${offset}`).toBe(0x7ff);
    const version = (header >>> 19) & 3;
    expect((header >>> 17) & 3, 'layer III').toBe(1);
    const bitrate = (version === 3 ? BITRATES_V1 : BITRATES_V2)[(header >>> 12) & 15] * 1000;
    const rate = RATES[version][(header >>> 10) & 3];
    const padding = (header >>> 9) & 1;
    const samples = version === 3 ? 1152 : 576;
    expect(bitrate).toBeGreaterThan(0);
    offset += Math.floor(((samples / 8) * bitrate) / rate) + padding;
    frames++;
    seconds += samples / rate;
  }
  expect(offset).toBe(bytes.length);
  return { frames, seconds };
}

describe('fidelity with Twilio as the official clients see it', () => {
  let sandbox: TwilioSandbox;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  it('shows a dialed call as queued in the REST resource: initiated is only a callback event', async () => {
    const slow = await startSandbox({ speed: 1 });
    try {
      const { client, http } = sdkFor(slow);
      const created = await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response/>' });
      await vi.waitFor(() => expect(slow.calls()[0]?.startTime).not.toBeNull(), { timeout: 900, interval: 10 });
      const fetched = await client.calls(created.sid).fetch();
      expect(fetched.status).toBe('queued');
      expect(fetched.startTime).toBeInstanceOf(Date);
      expectSchema('call', http.last().body);
      expect((await client.calls.list({ status: 'queued' })).map((c) => c.sid)).toEqual([created.sid]);
      expectListSchema('calls', http.last().body);
    } finally {
      await slow.stop();
    }
  });

  it('filters calls by StartTime given as the midnight date-time the SDKs send for a date', async () => {
    const { client, http } = sdkFor(sandbox);
    const done = await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response><Hangup/></Response>' });
    await sandbox.settle();
    const started = (await client.calls(done.sid).fetch()).startTime;
    const midnight = new Date(Date.UTC(started.getUTCFullYear(), started.getUTCMonth(), started.getUTCDate()));
    const sameDay = await client.calls.list({ startTime: midnight });
    expect((http.last().params as Record<string, string>).StartTime).toBe(`${midnight.toISOString().slice(0, 10)}T00:00:00Z`);
    expect(sameDay.map((c) => c.sid)).toEqual([done.sid]);
    const nextDay = new Date(midnight.getTime() + 86_400_000);
    expect(await client.calls.list({ startTime: nextDay })).toEqual([]);
    const sent = await client.messages.create({ to: CUSTOMER, from: OWNED, body: 'hello' });
    await sandbox.settle();
    const sentAt = (await client.messages(sent.sid).fetch()).dateSent;
    const sentDay = new Date(Date.UTC(sentAt.getUTCFullYear(), sentAt.getUTCMonth(), sentAt.getUTCDate()));
    expect((await client.messages.list({ dateSent: sentDay })).map((m) => m.sid)).toEqual([sent.sid]);
  });

  it('serves the Media subresource a message advertises, with one item per MediaUrl', async () => {
    const { client, http } = sdkFor(sandbox);
    const message = await client.messages.create({
      to: CUSTOMER,
      from: OWNED,
      body: 'two pictures',
      mediaUrl: ['https://example.com/a.png', 'https://example.com/b.jpg'],
    });
    const advertised = (http.last().body as { subresource_uris: { media: string } }).subresource_uris.media;
    const media = await client.messages(message.sid).media.list();
    expect(http.last().statusCode).toBe(200);
    expect(new URL(http.last().uri).pathname).toBe(advertised);
    expectListSchema('media_list', http.last().body);
    expect(media.map((m) => m.contentType).sort()).toEqual(['image/jpeg', 'image/png']);
    for (const item of media) {
      expect(item.parentSid).toBe(message.sid);
      expect(item.accountSid).toBe(sandbox.accountSid);
      const fetched = await client.messages(message.sid).media(item.sid).fetch();
      expect(http.last().statusCode).toBe(200);
      expectSchema('media', http.last().body);
      expect(fetched.uri).toBe(`${advertised.replace(/\.json$/, '')}/${item.sid}.json`);
    }

    const plain = await client.messages.create({ to: CUSTOMER, from: OWNED, body: 'text only' });
    expect(await client.messages(plain.sid).media.list()).toEqual([]);
    await expectRestError(client.messages('MM00000000000000000000000000000000').media.list(), 404, 20404);
    await expectRestError(client.messages(message.sid).media('ME00000000000000000000000000000000').fetch(), 404, 20404);
  });

  describe('recordings', () => {
    async function recordedCall() {
      const { client, http } = sdkFor(sandbox);
      const call = await client.calls.create({
        to: CUSTOMER,
        from: OWNED,
        twiml: '<Response><Say>one two three four five six seven eight nine ten</Say></Response>',
        record: true,
      });
      await sandbox.settle();
      return { client, http, call };
    }

    it('has an absolute media_url and the subresource URIs of the recording schema', async () => {
      const { client, http, call } = await recordedCall();
      const [recording] = await client.recordings.list({ callSid: call.sid });
      expectListSchema('recordings', http.last().body);
      expect(recording.mediaUrl).toBe(`${sandbox.baseUrl}/2010-04-01/Accounts/${sandbox.accountSid}/Recordings/${recording.sid}`);
      const base = `/2010-04-01/Accounts/${sandbox.accountSid}/Recordings/${recording.sid}`;
      expect(recording.subresourceUris).toEqual({
        add_on_results: `${base}/AddOnResults.json`,
        transcriptions: `${base}/Transcriptions.json`,
      });
      await client.recordings(recording.sid).fetch();
      expectSchema('recording', http.last().body);
    });

    it('lists and fetches a call’s recordings with their track', async () => {
      const { client, http, call } = await recordedCall();
      const listed = await client.calls(call.sid).recordings.list();
      expectListSchema('call_recordings', http.last().body);
      expect(listed.map((r) => r.track)).toEqual(['both']);
      for (const item of (http.last().body as { recordings: unknown[] }).recordings) expectSchema('call_recording', item);
      const fetched = await client.calls(call.sid).recordings(listed[0].sid).fetch();
      expectSchema('call_recording', http.last().body);
      expect(fetched).toMatchObject({ sid: listed[0].sid, callSid: call.sid, track: 'both', duration: '4' });
      await expectRestError(client.calls(call.sid).recordings('RE00000000000000000000000000000000').fetch(), 404, 20404);
    });

    it('serves the media as .wav and as a real .mp3 of the recording’s length', async () => {
      const { client, call } = await recordedCall();
      const [recording] = await client.recordings.list({ callSid: call.sid });
      const wav = await fetch(`${recording.mediaUrl}.wav`);
      expect(wav.status).toBe(200);
      expect(wav.headers.get('content-type')).toContain('audio/x-wav');
      const mp3 = await fetch(`${recording.mediaUrl}.mp3`);
      expect(mp3.status).toBe(200);
      expect(mp3.headers.get('content-type')).toBe('audio/mpeg');
      const { frames, seconds } = mp3Seconds(Buffer.from(await mp3.arrayBuffer()));
      expect(frames).toBeGreaterThan(1);
      expect(Math.abs(seconds - Number(recording.duration))).toBeLessThan(0.05);
      expect((await fetch(`${recording.mediaUrl.replace(/RE\w+$/, 'RE00000000000000000000000000000000')}.mp3`)).status).toBe(404);
    });

    it('serves byte ranges of the media for seeking: 206 with Content-Range, 416 outside the file', async () => {
      const { client, call } = await recordedCall();
      const [recording] = await client.recordings.list({ callSid: call.sid });
      const whole = Buffer.from(await (await fetch(`${recording.mediaUrl}.wav`)).arrayBuffer());
      const part = await fetch(`${recording.mediaUrl}.wav`, { headers: { range: 'bytes=44-143' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('accept-ranges')).toBe('bytes');
      expect(part.headers.get('content-range')).toBe(`bytes 44-143/${whole.length}`);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(44, 144));
      const outside = await fetch(`${recording.mediaUrl}.wav`, { headers: { range: `bytes=${whole.length + 10}-` } });
      expect(outside.status).toBe(416);
      expect(outside.headers.get('content-range')).toBe(`bytes */${whole.length}`);
    });

    it('fails the media like the API under injected faults, without counting it as an API request', async () => {
      const { client, call } = await recordedCall();
      const [recording] = await client.recordings.list({ callSid: call.sid });
      const requests = sandbox.apiRequestCount;
      sandbox.setFaults({ serverError: 1 });
      const failed = await fetch(`${recording.mediaUrl}.mp3`);
      expect(failed.status).toBe(500);
      expect(await failed.json()).toMatchObject({ code: 20500, status: 500 });
      expect(sandbox.apiRequestCount).toBe(requests);
      sandbox.setFaults({});
      expect((await fetch(`${recording.mediaUrl}.mp3`)).status).toBe(200);
    });
  });
});
