import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, type ReceivedRequest, type WebhookReceiver, param, sdkFor, useSandboxWithReceiver } from './sandbox-helpers';

/** The sandbox playing the person on the other end: scripts, <Gather>, <Dial>, live updates, async AMD. */
describe('conversations with a scripted party', () => {
  let sandbox: TwilioSandbox;
  let receiver: WebhookReceiver;

  useSandboxWithReceiver((s, r) => ((sandbox = s), (receiver = r)));

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sandbox.baseUrl}/sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };
  const callOf = (sid: string) => sandbox.calls().find((c) => c.sid === sid)!;
  const expectSigned = (req: ReceivedRequest) => {
    expect(receiver.isTwilioSigned(req, sandbox.authToken)).toBe(true);
    expect(String(req.headers['i-twilio-idempotency-token'] ?? '')).toMatch(/^[0-9a-f-]{36}$/);
  };

  describe('scripts API', () => {
    it('stores, lists, replaces and deletes scripts, and answers 400 naming the field on bad input', async () => {
      const created = await api('POST', '/scripts', {
        number: '+14155550123',
        turns: [{ speech: "I'd like to move my appointment", confidence: 0.92 }, { dtmf: '1' }, { silence: true }, { hangup: true }],
      });
      expect(created).toEqual({
        status: 201,
        body: {
          number: '+14155550123',
          turns: [{ speech: "I'd like to move my appointment", confidence: 0.92 }, { dtmf: '1' }, { silence: true }, { hangup: true }],
          talk_seconds: 5,
        },
      });
      await api('POST', '/scripts', { number: '+14155550123', turns: [{ speech: 'yes' }], talk_seconds: 12 });
      expect((await api('GET', '/scripts')).body).toEqual({
        scripts: [{ number: '+14155550123', turns: [{ speech: 'yes', confidence: 0.9 }], talk_seconds: 12 }],
      });

      const bad = async (body: unknown, message: RegExp) => {
        const answer = await api('POST', '/scripts', body);
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({ code: 20001, status: 400, message: expect.stringMatching(message) });
      };
      await bad({ number: '4155550123', turns: [] }, /^number must be a phone number in E\.164/);
      await bad({ number: '+14155550123', turns: [{ speech: 'hi' }, { shout: 'HI' }] }, /^turns\[1\]\.shout is not a turn field/);
      await bad({ number: '+14155550123', turns: [{ speech: 'hi', dtmf: '1' }] }, /^turns\[0\] must have exactly one of/);
      await bad(
        { number: '+14155550123', turns: [{ speech: 'hi', confidence: 1.5 }] },
        /^turns\[0\]\.confidence must be a number between 0 and 1/,
      );
      await bad({ number: '+14155550123', turns: [{ dtmf: '12a' }] }, /^turns\[0\]\.dtmf must be a string of the keys/);
      await bad({ number: '+14155550123', turns: [{ silence: false }] }, /^turns\[0\]\.silence must be true/);
      await bad({ number: '+14155550123', turns: 'hello' }, /^turns must be an array/);
      await bad({ number: '+14155550123', turns: [], talk_seconds: -1 }, /^talk_seconds must be a number of seconds/);
      await bad({ number: '+14155550123', turns: [], bridge_seconds: 'soon' }, /^bridge_seconds must be a number of seconds/);
      expect((await api('GET', '/scripts')).body).toEqual({
        scripts: [{ number: '+14155550123', turns: [{ speech: 'yes', confidence: 0.9 }], talk_seconds: 12 }],
      });

      const bridged = await api('POST', '/scripts', { number: '+14155550123', turns: [], bridge_seconds: 8 });
      expect(bridged).toEqual({ status: 201, body: { number: '+14155550123', turns: [], talk_seconds: 5, bridge_seconds: 8 } });

      expect((await api('DELETE', `/scripts/${encodeURIComponent('+14155550123')}`)).status).toBe(204);
      expect((await api('DELETE', `/scripts/${encodeURIComponent('+14155550123')}`)).status).toBe(404);
      expect((await api('GET', '/scripts')).body).toEqual({ scripts: [] });

      expect(() => sandbox.setScript('14155550123', [])).toThrow(/E\.164/);
      sandbox.setScript(CUSTOMER, [{ dtmf: '9' }]);
      expect(sandbox.scripts()).toEqual([{ number: CUSTOMER, turns: [{ dtmf: '9' }], talkSeconds: 5 }]);
      sandbox.reset();
      expect(sandbox.scripts()).toEqual([]);
    });
  });

  describe('<Gather>', () => {
    it('consumes one turn per Gather: speech and digits go to the signed action, silence falls through, hangup ends the call', async () => {
      sandbox.setScript(CUSTOMER, [
        { speech: "I'd like to move my appointment", confidence: 0.92 },
        { dtmf: '1' },
        { silence: true },
        { hangup: true },
      ]);
      receiver.on('/voice', {
        body:
          '<Response><Gather input="speech dtmf" action="/turn?n=1" timeout="3" speechTimeout="auto" hints="appointment" language="en-US">' +
          '<Say>How can I help?</Say></Gather><Say>We did not hear you</Say></Response>',
      });
      receiver.on('/turn', {
        body:
          '<Response><Gather input="speech dtmf" action="/turn?n=2" timeout="3" numDigits="1"><Say>Anything else?</Say></Gather>' +
          '<Say>Are you still there?</Say><Redirect>/again</Redirect></Response>',
      });
      receiver.on('/again', { body: '<Response><Gather input="speech" action="/turn?n=3"><Say>Last chance</Say></Gather></Response>' });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({
        to: CUSTOMER,
        from: OWNED,
        url: receiver.url('/voice'),
        statusCallback: receiver.url('/status'),
      });
      await sandbox.settle();

      const turns = receiver.to('/turn');
      expect(turns).toHaveLength(2);
      turns.forEach(expectSigned);
      expect(turns[0].url).toBe(receiver.url('/turn?n=1'));
      expect(turns[0].params).toMatchObject({
        CallSid: created.sid,
        AccountSid: sandbox.accountSid,
        From: OWNED,
        To: CUSTOMER,
        CallStatus: 'in-progress',
        Direction: 'outbound-api',
        SpeechResult: "I'd like to move my appointment",
        Confidence: '0.92',
      });
      expect(turns[0].params.Digits).toBeUndefined();
      expect(turns[1].params).toMatchObject({ CallSid: created.sid, Digits: '1' });
      expect(turns[1].params.SpeechResult).toBeUndefined();
      // the silent third turn fell through to the next verbs; the hang-up requested no action
      expect(receiver.to('/again')).toHaveLength(1);

      const call = callOf(created.sid);
      expect(call.status).toBe('completed');
      expect(
        call.executed.filter((v) => v.verb !== 'Say' || v.attributes.parent !== 'Gather').map((v) => [v.verb, v.input ?? v.text]),
      ).toEqual([
        ['Gather', { speech: "I'd like to move my appointment", confidence: 0.92 }],
        ['Gather', { digits: '1' }],
        ['Gather', { silence: true }],
        ['Say', 'Are you still there?'],
        ['Redirect', '/again'],
        ['Gather', { hangup: true }],
      ]);
      expect(call.executed.find((v) => v.verb === 'Say')).toMatchObject({ text: 'How can I help?', attributes: { parent: 'Gather' } });
      // Gather 1: prompt 1.6 + answer 1 + 6 words 2.4 + auto 1 = 6; Gather 2: 0.8 + 1 + one key 0.5 = 2.3;
      // Gather 3: 0.8 + timeout 3; Say 1.6; Gather 4: prompt 0.8, then the hang-up: 14.5 → 15 s
      expect((await client.calls(created.sid).fetch()).duration).toBe('15');
      const [completed] = receiver.to('/status');
      expect(completed.params).toMatchObject({ CallStatus: 'completed', CallDuration: '15' });
    });

    it('with no input requests the action only with actionOnEmptyResult, without SpeechResult or Digits, by GET when asked', async () => {
      sandbox.setScript(CUSTOMER, [{ silence: true }, { silence: true }]);
      receiver.on('/voice', {
        body:
          '<Response><Gather input="speech" action="/ignored" timeout="4"/>' +
          '<Gather input="speech" action="/empty" method="GET" timeout="2" actionOnEmptyResult="true"/></Response>',
      });
      receiver.on('/empty', { body: '<Response><Hangup/></Response>' });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice') });
      await sandbox.settle();
      expect(receiver.to('/ignored')).toHaveLength(0);
      const [empty] = receiver.to('/empty');
      expect(empty.method).toBe('GET');
      expectSigned(empty);
      expect(empty.params).toMatchObject({ CallSid: created.sid, CallStatus: 'in-progress' });
      expect(empty.params).not.toHaveProperty('SpeechResult');
      expect(empty.params).not.toHaveProperty('Digits');
      expect((await client.calls(created.sid).fetch()).duration).toBe('6');
    });

    it('keeps digits before finishOnKey, ignores input types the Gather does not listen for, and masks profanity', async () => {
      sandbox.setScript(CUSTOMER, [
        { dtmf: '42#9' },
        { speech: 'spoken to a keypad' },
        { speech: 'damn it, agent please' },
        { speech: 'damn' },
      ]);
      receiver.on('/voice', { body: '<Response><Gather action="/a" timeout="3"/></Response>' });
      receiver.on('/a', { body: '<Response><Gather action="/b" timeout="2"/><Gather input="speech" action="/c"/></Response>' });
      receiver.on('/c', { body: '<Response><Gather input="speech" action="/d" profanityFilter="false"/></Response>' });
      receiver.on('/d', { body: '<Response><Hangup/></Response>' });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice') });
      await sandbox.settle();
      expect(param(receiver.to('/a')[0], 'Digits')).toBe('42');
      // speech to a Gather that only listens for keys is no input: it falls through to the next Gather
      expect(receiver.to('/b')).toHaveLength(0);
      expect(param(receiver.to('/c')[0], 'SpeechResult')).toBe('d*** it, agent please');
      expect(param(receiver.to('/d')[0], 'SpeechResult')).toBe('damn');
      expect(
        callOf(created.sid)
          .executed.map((v) => v.input)
          .filter(Boolean),
      ).toEqual([
        { digits: '42' },
        { silence: true },
        { speech: 'd*** it, agent please', confidence: 0.9 },
        { speech: 'damn', confidence: 0.9 },
      ]);
    });

    it('holds a conversation longer than ten documents, as long as time passes in them', async () => {
      sandbox.setScript(
        CUSTOMER,
        Array.from({ length: 12 }, (_, i) => ({ dtmf: String(i % 10) })),
      );
      receiver.on('/voice', { body: '<Response><Gather numDigits="1"><Say>Next digit</Say></Gather></Response>' });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice') });
      await sandbox.settle();
      expect(receiver.to('/voice').map((r) => param(r, 'Digits') ?? '-')).toEqual([
        '-',
        '0',
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
        '8',
        '9',
        '0',
        '1',
      ]);
      expect(
        callOf(created.sid)
          .executed.filter((v) => v.verb === 'Gather')
          .pop()?.input,
      ).toEqual({ hangup: true });
    });

    it('gives a Gather on a number without a script no input, as before', async () => {
      receiver.on('/voice', {
        body: '<Response><Gather input="speech dtmf" action="/turn" timeout="2"><Say>Hello</Say></Gather><Say>Bye now</Say></Response>',
      });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice') });
      await sandbox.settle();
      expect(receiver.to('/turn')).toHaveLength(0);
      expect(callOf(created.sid).executed.map((v) => v.verb)).toEqual(['Gather', 'Say', 'Say']);
      expect(callOf(created.sid).executed[0].input).toEqual({ silence: true });
    });

    it('hangs up when the script runs out, and requests the current document when a Gather has no action', async () => {
      sandbox.setScript(CUSTOMER, [{ dtmf: '5' }]);
      receiver.on('/voice', ({ params }) => ({
        body: params.Digits
          ? '<Response><Gather timeout="2"><Say>Again</Say></Gather></Response>'
          : '<Response><Gather numDigits="1"/></Response>',
      }));
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({
        to: CUSTOMER,
        from: OWNED,
        url: receiver.url('/voice'),
        statusCallback: receiver.url('/status'),
      });
      await sandbox.settle();
      const voice = receiver.to('/voice');
      expect(voice.map((r) => param(r, 'Digits'))).toEqual([undefined, '5']);
      const call = callOf(created.sid);
      expect(call.status).toBe('completed');
      expect(call.executed.filter((v) => v.verb === 'Gather').map((v) => v.input)).toEqual([{ digits: '5' }, { hangup: true }]);
      expect(receiver.to('/status')[0].params).toMatchObject({ CallStatus: 'completed' });
    });

    it('plays the caller of an inbound call from the turns given to POST /sandbox/inbound/call', async () => {
      const { client } = sdkFor(sandbox);
      const [owned] = await client.incomingPhoneNumbers.list({ phoneNumber: OWNED });
      await client.incomingPhoneNumbers(owned.sid).update({ voiceUrl: receiver.url('/inbound'), statusCallback: receiver.url('/status') });
      sandbox.setScript(CUSTOMER, [{ speech: 'this script is not used for this call' }]);
      receiver.on('/inbound', {
        body: '<Response><Gather input="speech" action="/heard"><Say>Hi, who is calling?</Say></Gather></Response>',
      });
      receiver.on('/heard', { body: '<Response><Say>Thanks</Say><Gather input="speech" action="/heard"/></Response>' });
      const bad = await api('POST', '/inbound/call', { from: CUSTOMER, to: OWNED, turns: [{ speech: 'x', confidence: -1 }] });
      expect(bad).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^turns\[0\]\.confidence/) } });
      const answer = await api('POST', '/inbound/call', { from: CUSTOMER, to: OWNED, turns: [{ speech: 'It is Dana', confidence: 0.8 }] });
      expect(answer.status).toBe(201);
      await sandbox.settle();
      const heard = receiver.to('/heard');
      expect(heard).toHaveLength(1);
      expectSigned(heard[0]);
      expect(heard[0].params).toMatchObject({
        CallSid: answer.body?.sid,
        Direction: 'inbound',
        From: CUSTOMER,
        SpeechResult: 'It is Dana',
        Confidence: '0.8',
      });
      expect(callOf(String(answer.body?.sid)).status).toBe('completed');
      expect((await api('GET', '/calls')).body?.calls).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            sid: answer.body?.sid,
            executed: expect.arrayContaining([
              expect.objectContaining({ verb: 'Gather', input: { speech: 'It is Dana', confidence: 0.8 } }),
            ]),
          }),
        ]),
      );
    });
  });

  describe('<Record>', () => {
    it('ends on a key of finishOnKey: the action gets Digits with that key, and what it answers runs', async () => {
      sandbox.setScript(CUSTOMER, [{ dtmf: '#' }, { dtmf: '5' }]);
      receiver.on('/voice', { body: '<Response><Say>Leave a message</Say><Record action="/recorded" maxLength="60"/></Response>' });
      receiver.on('/recorded', { body: '<Response><Record action="/again" finishOnKey="#" timeout="3" maxLength="60"/></Response>' });
      receiver.on('/again', { body: '<Response><Say>Thanks</Say><Hangup/></Response>' });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice') });
      await sandbox.settle();
      const [recorded] = receiver.to('/recorded');
      expectSigned(recorded);
      // a message of 1 + 10 s, then the key: 11.5 s
      expect(recorded.params).toMatchObject({ CallSid: created.sid, CallStatus: 'in-progress', Digits: '#', RecordingDuration: '12' });
      expect(param(recorded, 'RecordingSid')).toMatch(/^RE/);
      // a key finishOnKey does not list is no end: the silence after it is (11 s + timeout 3)
      const [again] = receiver.to('/again');
      expect(again.params).not.toHaveProperty('Digits');
      expect(again.params).toMatchObject({ CallStatus: 'in-progress', RecordingDuration: '14' });
      const call = callOf(created.sid);
      expect(call.executed.map((v) => v.verb)).toEqual(['Say', 'Record', 'Record', 'Say', 'Hangup']);
      expect(call.executed.filter((v) => v.verb === 'Record').map((v) => v.input)).toEqual([{ digits: '#' }, undefined]);
      expect(call.recordingSids).toHaveLength(2);
    });

    it('ends with a hang-up: Digits=hangup on a completed call, and nothing the action answers runs', async () => {
      sandbox.setScript(CUSTOMER, [{ hangup: true }]);
      receiver.on('/voice', { body: '<Response><Record action="/recorded" maxLength="8"/><Say>never reached</Say></Response>' });
      receiver.on('/recorded', { body: '<Response><Say>Thanks</Say></Response>' });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({
        to: CUSTOMER,
        from: OWNED,
        url: receiver.url('/voice'),
        statusCallback: receiver.url('/status'),
      });
      await sandbox.settle();
      const [recorded] = receiver.to('/recorded');
      expect(recorded.params).toMatchObject({ CallStatus: 'completed', Digits: 'hangup', RecordingDuration: '8' });
      expect(callOf(created.sid).executed.map((v) => v.verb)).toEqual(['Record']);
      expect((await client.calls(created.sid).fetch()).duration).toBe('8');
    });

    it('ends after speech by timeout, or at maxLength, without Digits', async () => {
      sandbox.setScript(CUSTOMER, [
        { speech: 'Hi it is Dana please call me back' },
        { speech: 'one two three four five six seven eight nine ten' },
      ]);
      receiver.on('/voice', { body: '<Response><Record action="/first" timeout="2"/></Response>' });
      receiver.on('/first', { body: '<Response><Record action="/second" maxLength="3"/></Response>' });
      receiver.on('/second', { body: '<Response><Hangup/></Response>' });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice') });
      await sandbox.settle();
      const [first] = receiver.to('/first');
      const [second] = receiver.to('/second');
      // 1 s, 8 words 3.2 s, then 2 s of silence: 6.2 s; the second is cut at 3 s
      expect(first.params).toMatchObject({ CallStatus: 'in-progress', RecordingDuration: '7' });
      expect(second.params).toMatchObject({ CallStatus: 'in-progress', RecordingDuration: '3' });
      expect(first.params).not.toHaveProperty('Digits');
      expect(second.params).not.toHaveProperty('Digits');
      expect(callOf(created.sid).executed.map((v) => v.input)).toEqual([
        { speech: 'Hi it is Dana please call me back', confidence: 0.9 },
        { speech: 'one two three four five six seven eight nine ten', confidence: 0.9 },
        undefined,
      ]);
    });

    it('drops a silent recording: no action, no recording, and the document goes on', async () => {
      sandbox.setScript(CUSTOMER, [{ silence: true }]);
      receiver.on('/voice', {
        body: '<Response><Record action="/recorded" timeout="4" recordingStatusCallback="/recording"/><Say>No message then</Say></Response>',
      });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice') });
      await sandbox.settle();
      expect(receiver.to('/recorded')).toHaveLength(0);
      expect(receiver.to('/recording')).toHaveLength(0);
      const call = callOf(created.sid);
      expect(call.executed.map((v) => v.verb)).toEqual(['Record', 'Say']);
      expect(call.recordingSids).toEqual([]);
      // 4 s of silence + 3 words 1.2 s
      expect((await client.calls(created.sid).fetch()).duration).toBe('6');
    });
  });

  describe('<Dial>', () => {
    it('connects a scripted party: child call with parent_call_sid, whisper run for the dialed party, talk time, then the action', async () => {
      const AGENT = '+14155550123';
      sandbox.setScript(AGENT, [{ dtmf: '1' }], { talkSeconds: 20 });
      receiver.on('/voice', {
        body:
          '<Response><Say>Transferring</Say><Dial action="/dialed" callerId="+14155550199" timeout="20">' +
          '<Number url="/whisper" statusCallback="/child-status" statusCallbackEvent="initiated ringing answered completed">' +
          AGENT +
          '</Number></Dial><Say>never reached</Say></Response>',
      });
      receiver.on('/whisper', {
        body: '<Response><Gather numDigits="1" action="/accept"><Say>Call from the assistant, press 1</Say></Gather></Response>',
      });
      receiver.on('/accept', { body: '<Response/>' });
      receiver.on('/dialed', { body: '<Response><Say>Thanks</Say></Response>' });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice') });
      await sandbox.settle();

      const [whisper] = receiver.to('/whisper');
      expectSigned(whisper);
      const childSid = param(whisper, 'CallSid')!;
      expect(childSid).not.toBe(created.sid);
      expect(whisper.params).toMatchObject({
        ParentCallSid: created.sid,
        Direction: 'outbound-dial',
        From: OWNED,
        To: AGENT,
        CallStatus: 'in-progress',
      });
      expect(receiver.to('/accept')[0].params).toMatchObject({ CallSid: childSid, Digits: '1' });
      const [dialed] = receiver.to('/dialed');
      expectSigned(dialed);
      // whisper: 6 words 2.4 s + one key 1.5 s = 3.9 s, then 20 s of talk
      expect(dialed.params).toMatchObject({
        CallSid: created.sid,
        DialCallStatus: 'completed',
        DialCallSid: childSid,
        DialCallDuration: '24',
      });
      expect(receiver.to('/child-status').map((r) => param(r, 'CallStatus'))).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);

      const child = await client.calls(childSid).fetch();
      expect(child).toMatchObject({
        parentCallSid: created.sid,
        direction: 'outbound-dial',
        status: 'completed',
        duration: '24',
        to: AGENT,
      });
      expect((await client.calls.list({ parentCallSid: created.sid })).map((c) => c.sid)).toEqual([childSid]);
      // Say 0.4 + ringing 4 + whisper 3.9 + talk 20 + Say 0.4 = 28.7 → 29 s
      expect((await client.calls(created.sid).fetch()).duration).toBe('29');
      const parent = callOf(created.sid);
      expect(parent.executed.map((v) => v.verb)).toEqual(['Say', 'Dial', 'Say']);
      expect(parent.executed[1]).toMatchObject({ text: AGENT, dial: { to: AGENT, callSid: childSid, status: 'completed', duration: 24 } });
      expect(callOf(childSid).executed.map((v) => [v.verb, v.text])).toEqual([
        ['Gather', 'Call from the assistant, press 1'],
        ['Say', 'Call from the assistant, press 1'],
      ]);
      expect(callOf(childSid).executed[0].input).toEqual({ digits: '1' });
    });

    it('reports busy, no-answer and failed by the outcome rules, and goes on with the next verb without an action', async () => {
      receiver.on('/voice', {
        body:
          '<Response><Dial timeout="10">+14155552222</Dial><Dial>+14155553333</Dial>' +
          '<Dial>+1234</Dial><Dial action="/dialed">+14155551111</Dial><Say>not reached after an action</Say></Response>',
      });
      receiver.on('/dialed', ({ params }) => ({ body: `<Response><Say>The line was ${String(params.DialCallStatus)}</Say></Response>` }));
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice') });
      await sandbox.settle();
      const [dialed] = receiver.to('/dialed');
      expect(dialed.params).toMatchObject({ DialCallStatus: 'busy', DialCallSid: expect.stringMatching(/^CA/) });
      expect(dialed.params).not.toHaveProperty('DialCallDuration');
      const parent = callOf(created.sid);
      expect(parent.executed.map((v) => v.dial?.status ?? v.text)).toEqual(['no-answer', 'failed', 'failed', 'busy', 'The line was busy']);
      const children = await client.calls.list({ parentCallSid: created.sid });
      expect(children.map((c) => [c.to, c.status]).sort()).toEqual([
        ['+1234', 'failed'],
        ['+14155551111', 'busy'],
        ['+14155552222', 'no-answer'],
        ['+14155553333', 'failed'],
      ]);
      // Dial timeout 10 + failed after 1, twice + busy after 3 + Say 4 words 1.6 = 16.6 → 17 s
      expect((await client.calls(created.sid).fetch()).duration).toBe('17');
    });

    it('lets the caller hang up during the bridge: the Dial action still comes, with the call completed, and nothing runs after', async () => {
      sandbox.setScript(CUSTOMER, [], { bridgeSeconds: 7 });
      sandbox.setScript('+14155550123', [], { talkSeconds: 600 });
      receiver.on('/voice', { body: '<Response><Dial action="/dialed">+14155550123</Dial><Say>not reached</Say></Response>' });
      receiver.on('/dialed', { body: '<Response><Say>never said</Say></Response>' });
      const { client } = sdkFor(sandbox);
      const created = await client.calls.create({
        to: CUSTOMER,
        from: OWNED,
        url: receiver.url('/voice'),
        statusCallback: receiver.url('/status'),
      });
      await sandbox.settle();
      const [dialed] = receiver.to('/dialed');
      expectSigned(dialed);
      expect(dialed.params).toMatchObject({
        CallSid: created.sid,
        CallStatus: 'completed',
        DialCallStatus: 'completed',
        DialCallDuration: '7',
      });
      const [child] = await client.calls.list({ parentCallSid: created.sid });
      expect(child).toMatchObject({ status: 'completed', duration: '7' });
      // ringing 4 + the bridge 7
      expect(await client.calls(created.sid).fetch()).toMatchObject({ status: 'completed', duration: '11' });
      expect(callOf(created.sid).executed.map((v) => v.verb)).toEqual(['Dial']);
      expect(receiver.to('/status').map((r) => param(r, 'CallStatus'))).toEqual(['completed']);
    });
  });

  describe('asynchronous answering-machine detection', () => {
    it('runs the TwiML at once and posts AnsweredBy with MachineDetectionDuration to AsyncAmdStatusCallback', async () => {
      receiver.on('/voice', { body: '<Response><Pause length="40"/></Response>' });
      const { client } = sdkFor(sandbox);
      const place = (to: string, machineDetection: string, extra: Record<string, unknown> = {}) =>
        client.calls.create({
          to,
          from: OWNED,
          url: receiver.url('/voice'),
          machineDetection,
          asyncAmd: 'true',
          asyncAmdStatusCallback: receiver.url(
            `/amd/${to.slice(-4)}-${machineDetection}${extra.machineDetectionTimeout ? '-timeout' : ''}`,
          ),
          ...extra,
        });
      const voicemail = await place('+14155554444', 'DetectMessageEnd');
      const greeting = await place('+14155554444', 'Enable');
      const person = await place(CUSTOMER, 'DetectMessageEnd');
      const gaveUp = await place('+14155554444', 'DetectMessageEnd', { machineDetectionTimeout: 5, asyncAmdStatusCallbackMethod: 'GET' });
      await sandbox.settle();
      // the TwiML request comes when answered, before any AMD result
      for (const voice of receiver.to('/voice')) expect(voice.params).not.toHaveProperty('AnsweredBy');
      const amd = (path: string) => {
        const requests = receiver.to(path);
        expect(requests).toHaveLength(1);
        expectSigned(requests[0]);
        return requests[0];
      };
      expect(amd('/amd/4444-DetectMessageEnd').params).toMatchObject({
        CallSid: voicemail.sid,
        AccountSid: sandbox.accountSid,
        AnsweredBy: 'machine_end_beep',
        MachineDetectionDuration: '8000',
      });
      expect(amd('/amd/4444-Enable').params).toMatchObject({
        CallSid: greeting.sid,
        AnsweredBy: 'machine_start',
        MachineDetectionDuration: '3000',
      });
      expect(amd('/amd/0142-DetectMessageEnd').params).toMatchObject({
        CallSid: person.sid,
        AnsweredBy: 'human',
        MachineDetectionDuration: '2500',
      });
      const timedOut = amd('/amd/4444-DetectMessageEnd-timeout');
      expect(timedOut.method).toBe('GET');
      expect(timedOut.params).toMatchObject({ CallSid: gaveUp.sid, AnsweredBy: 'unknown', MachineDetectionDuration: '5000' });
      expect((await client.calls(voicemail.sid).fetch()).answeredBy).toBe('machine_end_beep');
      expect((await client.calls(person.sid).fetch()).answeredBy).toBe('human');
    });
  });
});

describe('live-call updates on a slower clock', () => {
  let sandbox: TwilioSandbox;
  let receiver: WebhookReceiver;

  useSandboxWithReceiver((s, r) => ((sandbox = s), (receiver = r)));

  const waitFor = async (check: () => boolean) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(check()).toBe(true);
  };

  it('stops a pending Gather when the call is updated with new TwiML, and runs the new document', async () => {
    receiver.on('/voice', {
      body: '<Response><Gather input="speech" action="/never" actionOnEmptyResult="true" timeout="600"><Say>Hold on</Say></Gather></Response>',
    });
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({
      to: CUSTOMER,
      from: OWNED,
      url: receiver.url('/voice'),
      statusCallback: receiver.url('/status'),
    });
    await waitFor(() => sandbox.calls().find((c) => c.sid === created.sid)!.executed.length > 0);
    const updated = await client.calls(created.sid).update({ twiml: '<Response><Say>Your agent is here</Say><Hangup/></Response>' });
    expect(updated.status).toBe('in-progress');
    await sandbox.settle();
    expect(receiver.to('/never')).toHaveLength(0);
    const call = sandbox.calls().find((c) => c.sid === created.sid)!;
    expect(call.status).toBe('completed');
    expect(call.executed.map((v) => v.verb)).toEqual(['Gather', 'Say', 'Say', 'Hangup']);
    expect(call.executed[2].text).toBe('Your agent is here');
    // redirected well before the 600 s timeout ran out
    expect(Number(call.duration)).toBeLessThan(300);
  });

  it('ends the dialed leg when the caller hangs up through the API during the Dial', async () => {
    sandbox.setScript('+14155550123', [], { talkSeconds: 600 });
    receiver.on('/voice', { body: '<Response><Dial action="/dialed">+14155550123</Dial></Response>' });
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({ to: CUSTOMER, from: OWNED, url: receiver.url('/voice') });
    await waitFor(() => sandbox.calls().some((c) => c.parentCallSid === created.sid && c.status === 'in-progress'));
    await client.calls(created.sid).update({ status: 'completed' });
    await sandbox.settle();
    const [child] = await client.calls.list({ parentCallSid: created.sid });
    expect(child.status).toBe('completed');
    expect(Number(child.duration)).toBeLessThan(600);
    expect((await client.calls(created.sid).fetch()).status).toBe('completed');
    expect(receiver.to('/dialed')).toHaveLength(0);
  });

  it('hangs up through the API during a pending Gather: no action, the time talked is counted', async () => {
    receiver.on('/voice', {
      body: '<Response><Gather input="speech" action="/never" actionOnEmptyResult="true" timeout="600"/></Response>',
    });
    const { client } = sdkFor(sandbox);
    const created = await client.calls.create({
      to: CUSTOMER,
      from: OWNED,
      url: receiver.url('/voice'),
      statusCallback: receiver.url('/status'),
    });
    await waitFor(() => sandbox.calls().find((c) => c.sid === created.sid)!.executed.length > 0);
    await client.calls(created.sid).update({ status: 'completed' });
    await sandbox.settle();
    expect(receiver.to('/never')).toHaveLength(0);
    const ended = await client.calls(created.sid).fetch();
    expect(ended.status).toBe('completed');
    expect(Number(ended.duration)).toBeLessThan(300);
    expect(receiver.to('/status')[0].params).toMatchObject({ CallStatus: 'completed', CallDuration: ended.duration });
  });
});
