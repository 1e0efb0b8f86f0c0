import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, type WebhookReceiver, param, sdkFor, useSandboxWithReceiver } from './sandbox-helpers';

describe('inbound calls and SMS on demand', () => {
  let sandbox: TwilioSandbox;
  let receiver: WebhookReceiver;

  useSandboxWithReceiver((s, r) => ((sandbox = s), (receiver = r)));
  beforeEach(async () => {
    const { client } = sdkFor(sandbox);
    const [owned] = await client.incomingPhoneNumbers.list({ phoneNumber: OWNED });
    await client.incomingPhoneNumbers(owned.sid).update({
      smsUrl: receiver.url('/sms'),
      voiceUrl: receiver.url('/voice'),
      statusCallback: receiver.url('/number-status'),
    });
  });

  it('posts an inbound SMS to the SmsUrl, signed, and sends the <Message> reply as an outbound message', async () => {
    receiver.on('/sms', { body: '<Response><Message>Thanks, we got it</Message></Response>' });
    const sid = await sandbox.deliverInboundSms({
      from: CUSTOMER,
      to: OWNED,
      body: 'Hello there',
      mediaUrls: ['https://example.com/cat.png'],
    });
    await sandbox.settle();
    const [webhook] = receiver.to('/sms');
    expect(receiver.isTwilioSigned(webhook, sandbox.authToken)).toBe(true);
    expect(webhook.params).toMatchObject({
      MessageSid: sid,
      SmsSid: sid,
      SmsMessageSid: sid,
      AccountSid: sandbox.accountSid,
      From: CUSTOMER,
      To: OWNED,
      Body: 'Hello there',
      NumMedia: '1',
      MediaUrl0: 'https://example.com/cat.png',
      MediaContentType0: 'image/png',
      NumSegments: '1',
    });
    const { client } = sdkFor(sandbox);
    const messages = await client.messages.list();
    const inbound = messages.find((m) => m.sid === sid);
    const reply = messages.find((m) => m.direction === 'outbound-reply');
    expect(inbound).toMatchObject({ direction: 'inbound', status: 'received', from: CUSTOMER, to: OWNED });
    expect(reply).toMatchObject({ from: OWNED, to: CUSTOMER, body: 'Thanks, we got it', status: 'delivered' });
  });

  it('rings the VoiceUrl, runs the TwiML, records with action and recordingStatusCallback, and reports to the number StatusCallback', async () => {
    receiver.on('/voice', {
      body: `<Response><Say>Please leave a message after the tone</Say><Play>https://example.com/beep.mp3</Play><Record maxLength="20" action="${receiver.url('/after-record')}" recordingStatusCallback="${receiver.url('/recording')}"/></Response>`,
    });
    receiver.on('/after-record', { body: '<Response><Say>Goodbye</Say><Hangup/></Response>' });
    const callSid = await sandbox.deliverInboundCall({ from: CUSTOMER, to: OWNED });
    await sandbox.settle();

    const [voice] = receiver.to('/voice');
    expect(receiver.isTwilioSigned(voice, sandbox.authToken)).toBe(true);
    expect(voice.params).toMatchObject({
      CallSid: callSid,
      CallStatus: 'ringing',
      Direction: 'inbound',
      From: CUSTOMER,
      To: OWNED,
      Caller: CUSTOMER,
      Called: OWNED,
    });

    const [action] = receiver.to('/after-record');
    // nobody scripted the caller: they talk until maxLength ends the recording, which sends no Digits
    expect(param(action, 'RecordingDuration')).toBe('20');
    expect(param(action, 'Digits')).toBeUndefined();
    const [recording] = receiver.to('/recording');
    expect(receiver.isTwilioSigned(recording, sandbox.authToken)).toBe(true);
    expect(recording.params).toMatchObject({
      CallSid: callSid,
      RecordingStatus: 'completed',
      RecordingDuration: '20',
      RecordingSource: 'RecordVerb',
    });
    expect(param(recording, 'RecordingSid')).toBe(param(action, 'RecordingSid'));
    expect((await fetch(param(recording, 'RecordingUrl')!)).headers.get('content-type')).toContain('audio/x-wav');

    const call = sandbox.calls().find((c) => c.sid === callSid);
    expect(call?.executed.map((v) => v.verb)).toEqual(['Say', 'Play', 'Record', 'Say', 'Hangup']);
    const [status] = receiver.to('/number-status');
    expect(status.params).toMatchObject({
      CallSid: callSid,
      CallStatus: 'completed',
      Direction: 'inbound',
      CallbackSource: 'call-progress-events',
    });
    // Say 7 words 2.8 s + Play 5 + Record 20 + Say 1 word 0.4 = 28.2 → 29 s
    expect(param(status, 'CallDuration')).toBe('29');
    const fetched = await sdkFor(sandbox).client.calls(callSid).fetch();
    expect(fetched).toMatchObject({ direction: 'inbound', status: 'completed', duration: '29' });
  });

  it('drives the same through the inspection HTTP API', async () => {
    receiver.on('/sms', { body: '<Response/>' });
    const sms = await fetch(`${sandbox.baseUrl}/sandbox/inbound/sms`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ from: CUSTOMER, to: OWNED, body: 'via http', media_urls: ['https://example.com/a.jpg'] }),
    });
    expect(sms.status).toBe(201);
    const call = await fetch(`${sandbox.baseUrl}/sandbox/inbound/call`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ from: CUSTOMER, to: OWNED }),
    });
    const { sid } = (await call.json()) as { sid: string };
    expect(sid).toMatch(/^CA[0-9a-f]{32}$/);
    await sandbox.settle();
    expect(param(receiver.to('/sms')[0], 'MediaUrl0')).toBe('https://example.com/a.jpg');
    const calls = (await (await fetch(`${sandbox.baseUrl}/sandbox/calls`)).json()) as { calls: { sid: string; status: string }[] };
    expect(calls.calls.find((c) => c.sid === sid)?.status).toBe('completed');
    const messages = (await (await fetch(`${sandbox.baseUrl}/sandbox/messages`)).json()) as { messages: { body: string }[] };
    expect(messages.messages.map((m) => m.body)).toEqual(['via http']);
    const unknown = await fetch(`${sandbox.baseUrl}/sandbox/inbound/sms`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ from: CUSTOMER, to: '+14155550100', body: 'x' }),
    });
    expect(unknown.status).toBe(404);
  });

  it('resets state through POST /sandbox/reset and reports health', async () => {
    await sdkFor(sandbox).client.messages.create({ to: CUSTOMER, from: OWNED, body: 'x' });
    expect(sandbox.messages()).toHaveLength(1);
    expect((await fetch(`${sandbox.baseUrl}/sandbox/reset`, { method: 'POST' })).status).toBe(204);
    expect(sandbox.messages()).toHaveLength(0);
    const health = (await (await fetch(`${sandbox.baseUrl}/sandbox/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', accountSid: sandbox.accountSid });
  });
});
