import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { api, count, fakeSid, postWebhook, wireNumber } from './webhook-helpers';
import { twilioCallbackUrl } from '../../src/common/twilio-callback-url';

const CALLER = '+14155550123';
const xmlAttribute = (value: string) => value.replaceAll('&', '&amp;');

describe('inbound calls and SMS (webhooks)', () => {
  let t: TestApp;
  let ourNumber: string;

  beforeAll(async () => {
    t = await startTestApp();
    ourNumber = await wireNumber(t);
  });
  afterAll(async () => t?.close());

  it('an inbound call creates an inbound record, hears the greeting and leaves a voicemail recording', async () => {
    const sid = await t.sandbox.deliverInboundCall({ from: CALLER, to: ourNumber });
    await t.sandbox.settle();
    const voice = t.sandbox.callbacks().find((c) => c.resourceSid === sid && c.kind === 'voice-url');
    expect(voice?.status).toBe(200);
    const call = t.sandbox.calls().find((c) => c.sid === sid)!;
    expect(call.executed.map((v) => v.verb)).toEqual(expect.arrayContaining(['Say', 'Record']));
    expect(call.executed.find((v) => v.verb === 'Say')?.text).toBe(t.config.webhooks.inboundGreeting);

    const got = await api<{ direction: string; created_by: string | null; from: string; status: string }>(
      t,
      'GET',
      `/api/phone/calls/${sid}`,
    );
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ direction: 'inbound', created_by: null, from: CALLER });

    const recordings = await eventually(async () => {
      const r = await api<{
        recordings: { sid: string; call_sid: string; status: string; duration: number; source: string; url: string }[];
      }>(t, 'GET', `/api/phone/calls/${sid}/recordings`, undefined, ['phone:view']);
      return r.body.recordings.length ? r.body.recordings : null;
    });
    expect(recordings).toEqual([
      expect.objectContaining({ sid: call.recordingSids[0], call_sid: sid, status: 'completed', duration: 120, source: 'RecordVerb' }),
    ]);
    // the voicemail downloads from this service with our token, not from Twilio
    expect(recordings[0].url).toBe(`http://localhost:${t.config.port}/api/phone/recordings/${recordings[0].sid}/audio`);
  });

  it('answers the voice webhook with text/xml TwiML built from the configuration', async () => {
    const res = await postWebhook(t, 'call', {
      CallSid: fakeSid('CA'),
      From: CALLER,
      To: ourNumber,
      CallStatus: 'ringing',
      Direction: 'inbound',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    const xml = await res.text();
    expect(xml).toContain('<Say voice="alice" language="en-US">');
    expect(xml).toContain(
      `<Record maxLength="120" playBeep="true" action="${xmlAttribute(twilioCallbackUrl(t.config.twilio, '/call'))}" recordingStatusCallback="${xmlAttribute(twilioCallbackUrl(t.config.twilio, '/status'))}"`,
    );
  });

  it('serves a call we placed its stored TwiML by record id or sid, and hangs up on an unknown one at once', async () => {
    const placed = await api<{ id: string; sid: string }>(t, 'POST', '/api/phone/call', {
      to: '+14155559876',
      message: 'Your table is ready',
    });
    expect(placed.status).toBe(201);
    const params = { CallSid: placed.body.sid, From: ourNumber, To: '+14155559876', CallStatus: 'in-progress', Direction: 'outbound-api' };
    const res = await postWebhook(t, 'call', params);
    expect(await res.text()).toContain('Your table is ready</Say>');
    const byId = await postWebhook(t, 'call', params, { query: `?record_id=${placed.body.id}`, token: 'by-id' });
    expect(await byId.text()).toContain('Your table is ready</Say>');

    const started = Date.now();
    const unknown = await postWebhook(t, 'call', {
      CallSid: fakeSid('CA'),
      From: ourNumber,
      To: '+14155559876',
      CallStatus: 'in-progress',
      Direction: 'outbound-api',
    });
    expect(await unknown.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stores an inbound SMS once with segments and media, even when Twilio retries it', async () => {
    const sid = fakeSid('SM');
    const params = {
      MessageSid: sid,
      SmsSid: sid,
      From: CALLER,
      To: ourNumber,
      Body: 'hello there',
      NumSegments: '1',
      NumMedia: '2',
      MediaUrl0: 'https://example.com/a.jpg',
      MediaUrl1: 'https://example.com/b.png',
    };
    const first = await postWebhook(t, 'sms', params, { token: 'tok-1' });
    const retry = await postWebhook(t, 'sms', params, { token: 'tok-2' });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(await retry.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(await count(t, 'message_records', 'sid = $1', [sid])).toBe(1);
    expect(await count(t, 'webhook_events', 'sid = $1', [sid])).toBe(1);
    const got = await api<{ direction: string; status: string; segments: number; media_urls: string[] }>(t, 'GET', `/api/phone/sms/${sid}`);
    expect(got.body).toMatchObject({
      direction: 'inbound',
      status: 'received',
      segments: 1,
      media_urls: ['https://example.com/a.jpg', 'https://example.com/b.png'],
    });
  });

  it('STOP opts the sender out (calls and SMS to it are refused), START opts back in, HELP answers', async () => {
    const person = '+14155550177';
    await t.sandbox.deliverInboundSms({ from: person, to: ourNumber, body: '  stop ' });
    await t.sandbox.settle();
    const sms = await api<{ code: string }>(t, 'POST', '/api/phone/sms', { to: person, message: 'still there?' });
    expect(sms.status).toBe(400);
    expect(sms.body.code).toBe('recipient_opted_out');
    const call = await api<{ code: string }>(t, 'POST', '/api/phone/call', { to: person, message: 'hi' });
    expect(call.status).toBe(400);
    expect(call.body.code).toBe('recipient_opted_out');

    await t.sandbox.deliverInboundSms({ from: person, to: ourNumber, body: 'Start' });
    await t.sandbox.settle();
    expect((await api(t, 'POST', '/api/phone/sms', { to: person, message: 'welcome back' })).status).toBe(201);

    await t.sandbox.deliverInboundSms({ from: person, to: ourNumber, body: 'help' });
    await t.sandbox.settle();
    const reply = t.sandbox.messages().find((m) => m.to === person && m.body === t.config.webhooks.smsHelpText);
    expect(reply).toBeDefined();
    const plain = await postWebhook(t, 'sms', { MessageSid: fakeSid('SM'), From: person, To: ourNumber, Body: 'just chatting' });
    expect(await plain.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  it('GET calls/{sid}/recordings is 404 for an unknown call and needs a token', async () => {
    const missing = await api<{ code: string }>(t, 'GET', `/api/phone/calls/${fakeSid('CA')}/recordings`, undefined, ['phone:view']);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    const anonymous = await fetch(`${t.baseUrl}/api/phone/calls/${fakeSid('CA')}/recordings`);
    expect(anonymous.status).toBe(401);
  });

  it('exposes ReconcileService for tests', () => {
    expect(t.app.get(ReconcileService)).toBeInstanceOf(ReconcileService);
  });
});
