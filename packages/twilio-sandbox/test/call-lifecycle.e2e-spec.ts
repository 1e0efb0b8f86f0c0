import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, WebhookReceiver, param, sdkFor, startSandbox, useSandboxWithReceiver } from './sandbox-helpers';

const ALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

describe('call lifecycle', () => {
  let sandbox: TwilioSandbox;
  let receiver: WebhookReceiver;
  useSandboxWithReceiver((s, r) => ((sandbox = s), (receiver = r)));

  const statuses = (path = '/status') =>
    receiver
      .to(path)
      .sort((a, b) => Number(param(a, 'SequenceNumber')) - Number(param(b, 'SequenceNumber')))
      .map((r) => param(r, 'CallStatus'));

  it('goes queued → initiated → ringing → in-progress → completed with signed, numbered status callbacks', async () => {
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({
      to: CUSTOMER,
      from: OWNED,
      twiml: '<Response><Say>one two three four five six seven eight nine ten</Say></Response>',
      statusCallback: receiver.url('/status'),
      statusCallbackEvent: ALL_EVENTS,
    });
    expect(created.status).toBe('queued');
    await sandbox.settle();
    expect(statuses()).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    const requests = receiver.to('/status');
    for (const req of requests) {
      expect(req.headers['content-type']).toContain('application/x-www-form-urlencoded');
      expect(receiver.isTwilioSigned(req, sandbox.authToken)).toBe(true);
      expect(param(req, 'CallbackSource')).toBe('call-progress-events');
      expect(param(req, 'Timestamp')).toMatch(/\+0000$/);
      expect(param(req, 'CallSid')).toBe(created.sid);
      expect(param(req, 'AccountSid')).toBe(sandbox.accountSid);
    }
    const completed = requests.find((r) => param(r, 'CallStatus') === 'completed');
    // 10 words at 150 wpm = 4 s of talk; billed as one minute.
    expect(param(completed, 'CallDuration')).toBe('4');
    expect(param(completed, 'Duration')).toBe('1');
    expect(
      param(
        requests.find((r) => param(r, 'CallStatus') === 'ringing'),
        'CallDuration',
      ),
    ).toBeUndefined();
    const call = await client.calls(created.sid).fetch();
    expect(call).toMatchObject({ status: 'completed', duration: '4', price: '-0.00850', priceUnit: 'USD' });
    expect(call.endTime.getTime() - call.startTime.getTime()).toBeGreaterThanOrEqual(4000);
  });

  it('sends only the completed callback when no events are chosen', async () => {
    const { client } = sdkFor(sandbox);
    await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response/>', statusCallback: receiver.url('/status') });
    await sandbox.settle();
    expect(statuses()).toEqual(['completed']);
  });

  it.each([
    ['+14155551111', 'busy', '486'],
    ['+14155552222', 'no-answer', '487'],
    ['+14155553333', 'failed', '404'],
  ])('a call to %s ends %s with SipResponseCode %s, no duration and no charge', async (to, status, sip) => {
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({
      to,
      from: OWNED,
      twiml: '<Response><Say>hi</Say></Response>',
      statusCallback: receiver.url('/status'),
      statusCallbackEvent: ALL_EVENTS,
      timeout: 15,
    });
    await sandbox.settle();
    const final = receiver.to('/status').find((r) => param(r, 'CallStatus') === status);
    expect(param(final, 'SipResponseCode')).toBe(sip);
    expect(statuses()).not.toContain('in-progress');
    const call = await client.calls(created.sid).fetch();
    expect(call.status).toBe(status);
    expect(call.duration).toBeNull();
    expect(call.price).toBe('0.00000');
    expect((await client.balance.fetch()).balance).toBe('20.00');
  });

  it('a no-answer call rings for its Timeout', async () => {
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({ to: '+14155552222', from: OWNED, twiml: '<Response/>', timeout: 30 });
    await sandbox.settle();
    const call = await client.calls(created.sid).fetch();
    // initiated 1 s before ringing, then 30 s of ringing
    expect(call.endTime.getTime() - call.startTime.getTime()).toBeGreaterThanOrEqual(31_000);
    expect(call.endTime.getTime() - call.startTime.getTime()).toBeLessThan(40_000);
  });

  it('answers x4444 as machine_start with MachineDetection=Enable, machine_end_beep with DetectMessageEnd, and a human otherwise', async () => {
    const { client } = sdkFor(sandbox);
    const machine = await client.calls.create({
      to: '+14155554444',
      from: OWNED,
      twiml: '<Response/>',
      machineDetection: 'Enable',
      statusCallback: receiver.url('/status'),
      statusCallbackEvent: ['answered'],
    });
    const messageEnd = await client.calls.create({
      to: '+14155554444',
      from: OWNED,
      twiml: '<Response/>',
      machineDetection: 'DetectMessageEnd',
      statusCallback: receiver.url('/status-end'),
      statusCallbackEvent: ['answered'],
    });
    const human = await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response/>', machineDetection: 'Enable' });
    const plain = await client.calls.create({ to: '+14155554444', from: OWNED, twiml: '<Response/>' });
    await sandbox.settle();
    expect((await client.calls(machine.sid).fetch()).answeredBy).toBe('machine_start');
    expect(param(receiver.to('/status')[0], 'AnsweredBy')).toBe('machine_start');
    expect((await client.calls(messageEnd.sid).fetch()).answeredBy).toBe('machine_end_beep');
    expect(param(receiver.to('/status-end')[0], 'AnsweredBy')).toBe('machine_end_beep');
    expect((await client.calls(human.sid).fetch()).answeredBy).toBe('human');
    expect((await client.calls(plain.sid).fetch()).answeredBy).toBeNull();
  });

  it('asks for the TwiML of a call with synchronous detection once detection is done, and bills that time', async () => {
    const { client } = sdkFor(sandbox);
    const twiml = '<Response><Say>hello</Say></Response>';
    const detected = await client.calls.create({ to: CUSTOMER, from: OWNED, twiml, machineDetection: 'Enable' });
    const plain = await client.calls.create({ to: CUSTOMER, from: OWNED, twiml });
    await sandbox.settle();
    const [withDetection, without] = [await client.calls(detected.sid).fetch(), await client.calls(plain.sid).fetch()];
    expect(withDetection.answeredBy).toBe('human');
    // a person is known after their greeting, about 2.5 s, before a word of the TwiML is spoken
    expect(Number(withDetection.duration) - Number(without.duration)).toBeGreaterThanOrEqual(2);
  });

  it('keeps x5555 in progress until it is hung up through the API', async () => {
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({ to: '+14155555555', from: OWNED, twiml: '<Response><Say>hello</Say></Response>' });
    await sandbox.settle();
    expect((await client.calls(created.sid).fetch()).status).toBe('in-progress');
    await new Promise((r) => setTimeout(r, 150));
    const ended = await client.calls(created.sid).update({ status: 'completed' });
    expect(ended.status).toBe('completed');
    expect(Number(ended.duration)).toBeGreaterThanOrEqual(60);
    expect(ended.price).toBe(`-${(0.0085 * Math.ceil(Number(ended.duration) / 60)).toFixed(5)}`);
  });

  it('cancels a ringing call, and a call canceled while queued sends no callbacks', async () => {
    const slow = await startSandbox({ speed: 10, cps: 1 });
    try {
      const { client } = sdkFor(slow);
      const both = await Promise.all(
        ['/a', '/b'].map((path) =>
          client.calls.create({
            to: CUSTOMER,
            from: OWNED,
            twiml: '<Response/>',
            statusCallback: receiver.url(path),
            statusCallbackEvent: ALL_EVENTS,
          }),
        ),
      );
      // at one call per second, one of the two waits in the queue (up to a second, less the time
      // between the two requests' arrival, which a busy machine stretches)
      const [first, second] = [...both].sort((x, y) => Number(x.queueTime) - Number(y.queueTime));
      expect(Number(second.queueTime)).toBeGreaterThan(0);
      expect(Number(second.queueTime)).toBeGreaterThan(Number(first.queueTime));
      const firstPath = both[0] === first ? '/a' : '/b';
      const secondPath = firstPath === '/a' ? '/b' : '/a';
      await client.calls(second.sid).update({ status: 'canceled' });
      await vi.waitFor(async () => expect((await client.calls(first.sid).fetch()).status).toBe('ringing'), { timeout: 5000 });
      expect((await client.calls(first.sid).update({ status: 'canceled' })).status).toBe('canceled');
      await slow.settle();
      expect(statuses(firstPath)).toEqual(['initiated', 'ringing', 'canceled']);
      expect(receiver.to(secondPath)).toHaveLength(0);
    } finally {
      await slow.stop();
    }
  });

  it('paces outbound calls at the configured calls per second and reports queue_time', async () => {
    // real time here, so that how fast the four requests arrive cannot matter
    const paced = await startSandbox({ speed: 1, cps: 2 });
    try {
      const { client } = sdkFor(paced);
      const calls = await Promise.all([0, 1, 2, 3].map(() => client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response/>' })));
      calls.sort((a, b) => Number(a.queueTime) - Number(b.queueTime));
      expect(Number(calls[0].queueTime)).toBeLessThan(100);
      expect(Number(calls[3].queueTime)).toBeGreaterThanOrEqual(1000);
      // created-at plus queue_time is the dial slot: one every 500 ms at 2 calls per second
      const slots = paced
        .calls()
        .map((c) => c.dateCreated.getTime() + c.queueTimeMs)
        .sort((a, b) => a - b);
      expect(slots.slice(1).map((slot, i) => slot - slots[i])).toEqual([500, 500, 500]);
      const bySid = new Map(paced.calls().map((c) => [c.sid, String(c.queueTimeMs)]));
      expect(calls.map((c) => c.queueTime)).toEqual(calls.map((c) => bySid.get(c.sid)));
      // Dialed calls get a start_time; the REST status stays queued until they ring.
      await vi.waitFor(async () => expect((await client.calls(calls[0].sid).fetch()).startTime).toBeInstanceOf(Date), {
        timeout: 900,
        interval: 10,
      });
      expect((await client.calls(calls[3].sid).fetch()).startTime).toBeNull();
    } finally {
      await paced.stop();
    }
  });

  it('fetches TwiML from Url with a signed POST of the call parameters when answered and logs what it executed', async () => {
    receiver.on('/voice', {
      body: '<Response><Say>hello there</Say><Pause length="3"/><Play>https://example.com/a.mp3</Play><Gather timeout="2"><Say>press one</Say></Gather><Hangup/><Say>never said</Say></Response>',
    });
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice?step=1') });
    await sandbox.settle();
    const [fetch] = receiver.to('/voice');
    expect(fetch.method).toBe('POST');
    expect(receiver.isTwilioSigned(fetch, sandbox.authToken)).toBe(true);
    expect(fetch.url).toContain('?step=1');
    expect(fetch.params).toMatchObject({
      CallSid: created.sid,
      CallStatus: 'in-progress',
      From: OWNED,
      To: CUSTOMER,
      Direction: 'outbound-api',
      ApiVersion: '2010-04-01',
    });
    const call = sandbox.calls().find((c) => c.sid === created.sid);
    expect(call?.executed.map((v) => v.verb)).toEqual(['Say', 'Pause', 'Play', 'Gather', 'Say', 'Hangup']);
    // Say 2 words 0.8 s + Pause 3 + Play 5 + Gather (Say 2 words 0.8 + timeout 2) = 11.6 → 12 s
    expect((await client.calls(created.sid).fetch()).duration).toBe('12');
  });

  it('falls back to FallbackUrl with ErrorCode and ErrorUrl when the Url fails', async () => {
    receiver.on('/broken', { status: 500, body: 'oops' });
    receiver.on('/fallback', { body: '<Response><Say>sorry</Say></Response>' });
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({
      to: CUSTOMER,
      from: OWNED,
      url: receiver.url('/broken'),
      fallbackUrl: receiver.url('/fallback'),
    });
    await sandbox.settle();
    const [fallback] = receiver.to('/fallback');
    expect(param(fallback, 'ErrorCode')).toBe('11200');
    expect(param(fallback, 'ErrorUrl')).toBe(receiver.url('/broken'));
    expect(receiver.isTwilioSigned(fallback, sandbox.authToken)).toBe(true);
    expect(sandbox.calls().find((c) => c.sid === created.sid)?.executed[0]).toMatchObject({ verb: 'Say', text: 'sorry' });
  });

  it('redirects a live call to new TwiML through an update with Twiml', async () => {
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({ to: '+14155555555', from: OWNED, twiml: '<Response><Pause length="1"/></Response>' });
    await sandbox.settle();
    await client.calls(created.sid).update({ twiml: '<Response><Say>new words</Say><Hangup/></Response>' });
    await sandbox.settle();
    const call = sandbox.calls().find((c) => c.sid === created.sid);
    expect(call?.status).toBe('completed');
    expect(call?.executed.map((v) => v.verb)).toEqual(['Pause', 'Say', 'Hangup']);
  });

  it('Record=true produces a WAV recording served by the sandbox and a recording status callback', async () => {
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({
      to: CUSTOMER,
      from: OWNED,
      twiml: '<Response><Pause length="7"/></Response>',
      record: true,
      recordingStatusCallback: receiver.url('/recording'),
      statusCallback: receiver.url('/status'),
    });
    await sandbox.settle();
    const [completed] = receiver.to('/status');
    const [recording] = receiver.to('/recording');
    expect(receiver.isTwilioSigned(recording, sandbox.authToken)).toBe(true);
    expect(recording.params).toMatchObject({
      CallSid: created.sid,
      RecordingStatus: 'completed',
      RecordingDuration: '7',
      RecordingSource: 'OutboundAPI',
    });
    expect(param(completed, 'RecordingSid')).toBe(param(recording, 'RecordingSid'));
    expect(param(completed, 'RecordingUrl')).toBe(param(recording, 'RecordingUrl'));
    const url = param(recording, 'RecordingUrl')!;
    expect(url.startsWith(sandbox.baseUrl)).toBe(true);
    const wav = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(wav.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(wav.subarray(8, 12).toString('ascii')).toBe('WAVE');
    expect(wav.readUInt32LE(24)).toBe(8000);
    expect(wav.readUInt32LE(40)).toBe(7 * 8000 * 2);

    const listed = await client.recordings.list({ callSid: created.sid });
    expect(listed.map((r) => [r.sid, r.callSid, r.duration, r.status])).toEqual([
      [param(recording, 'RecordingSid'), created.sid, '7', 'completed'],
    ]);
    const viaCall = await client.calls(created.sid).recordings.list();
    expect(viaCall.map((r) => r.sid)).toEqual([param(recording, 'RecordingSid')]);
    expect(await client.recordings.list({ callSid: `CA${'0'.repeat(32)}` })).toEqual([]);
  });
});
