import { createHash } from 'node:crypto';
import twilio from 'twilio';
import { startTestApp, type TestApp } from '../support/test-app';
import { api, count, fakeSid, postWebhook, wireNumber } from './webhook-helpers';

describe('webhook signatures', () => {
  let t: TestApp;
  let ourNumber: string;

  beforeAll(async () => {
    t = await startTestApp();
    ourNumber = await wireNumber(t);
  });
  afterAll(async () => t?.close());

  const inboundSms = (sid: string) => ({ MessageSid: sid, From: '+14155550123', To: ourNumber, Body: 'hello', NumSegments: '1' });

  async function expectRejected(res: Response, sid: string): Promise<void> {
    expect(res.status).toBe(403);
    const body = (await res.json()) as { code: string; statusCode: number };
    expect(body).toMatchObject({ code: 'invalid_signature', statusCode: 403 });
    expect(await count(t, 'webhook_events', 'sid = $1', [sid])).toBe(0);
    expect(await count(t, 'message_records', 'sid = $1', [sid])).toBe(0);
    expect(await count(t, 'call_records', 'sid = $1', [sid])).toBe(0);
  }

  it('accepts a correctly signed webhook', async () => {
    const sid = fakeSid('SM');
    const res = await postWebhook(t, 'sms', inboundSms(sid));
    expect(res.status).toBe(200);
    expect(await count(t, 'message_records', 'sid = $1', [sid])).toBe(1);
  });

  it('refuses a missing or forged signature', async () => {
    const sid = fakeSid('SM');
    await expectRejected(await postWebhook(t, 'sms', inboundSms(sid), { signature: null }), sid);
    await expectRejected(await postWebhook(t, 'sms', inboundSms(sid), { signature: 'bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==' }), sid);
    const wrongToken = twilio.getExpectedTwilioSignature('not-the-auth-token', `${t.config.twilio.webhookBaseUrl}/sms`, inboundSms(sid));
    await expectRejected(await postWebhook(t, 'sms', inboundSms(sid), { signature: wrongToken }), sid);
  });

  it('refuses a signature made for another URL, route or query string', async () => {
    const sid = fakeSid('SM');
    await expectRejected(
      await postWebhook(t, 'sms', inboundSms(sid), { signUrl: 'https://elsewhere.example.com/api/phone/webhook/sms' }),
      sid,
    );
    await expectRejected(await postWebhook(t, 'sms', inboundSms(sid), { signUrl: `${t.config.twilio.webhookBaseUrl}/call` }), sid);
    await expectRejected(
      await postWebhook(t, 'sms', inboundSms(sid), { query: '?a=2', signUrl: `${t.config.twilio.webhookBaseUrl}/sms?a=1` }),
      sid,
    );
    // the signed query string is honoured when it is the one sent
    expect((await postWebhook(t, 'sms', inboundSms(sid), { query: '?a=1' })).status).toBe(200);
  });

  it('refuses an altered, added or removed parameter', async () => {
    const sid = fakeSid('SM');
    const signed = inboundSms(sid);
    await expectRejected(await postWebhook(t, 'sms', { ...signed, Body: 'STOP' }, { signParams: signed }), sid);
    await expectRejected(await postWebhook(t, 'sms', { ...signed, Extra: 'x' }, { signParams: signed }), sid);
    const { Body: _dropped, ...fewer } = signed;
    await expectRejected(await postWebhook(t, 'sms', fewer, { signParams: signed }), sid);
  });

  it('refuses a replayed sandbox callback whose body was changed, and ignores an exact replay', async () => {
    const sent = await api<{ sid: string }>(t, 'POST', '/api/phone/sms', { to: '+14155550111', message: 'hi' });
    expect(sent.status).toBe(201);
    await t.sandbox.settle();
    const delivered = t.sandbox.callbacks().find((c) => c.resourceSid === sent.body.sid && c.params.MessageStatus === 'delivered')!;
    expect(delivered.status).toBe(204);
    const before = await count(t, 'webhook_events', 'sid = $1', [sent.body.sid]);
    const replay = (params: Record<string, string>) =>
      fetch(delivered.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': delivered.headers['X-Twilio-Signature'] },
        body: new URLSearchParams(params).toString(),
      });
    const altered = await replay({ ...delivered.params, MessageStatus: 'failed', ErrorCode: '30008' });
    expect(altered.status).toBe(403);
    expect((await replay(delivered.params)).status).toBe(204);
    expect(await count(t, 'webhook_events', 'sid = $1', [sent.body.sid])).toBe(before);
    const got = await api<{ status: string; error_code: number | null }>(t, 'GET', `/api/phone/sms/${sent.body.sid}`);
    expect(got.body).toMatchObject({ status: 'delivered', error_code: null });
  });

  it('accepts a JSON body with bodySHA256 and refuses it once altered', async () => {
    const sid = fakeSid('SM');
    const raw = JSON.stringify({ MessageSid: sid, MessageStatus: 'sent' });
    const hash = createHash('sha256').update(raw).digest('hex');
    const url = `${t.config.twilio.webhookBaseUrl}/status?bodySHA256=${hash}`;
    const signature = twilio.getExpectedTwilioSignature(t.config.twilio.authToken, url, {});
    const post = (body: string) =>
      fetch(`${t.baseUrl}/api/phone/webhook/status?bodySHA256=${hash}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Twilio-Signature': signature },
        body,
      });
    await expectRejected(await post(raw.replace('sent', 'failed')), sid);
    expect((await post(raw)).status).toBe(204);
    expect(await count(t, 'webhook_events', 'sid = $1 AND applied_at IS NULL', [sid])).toBe(1);
  });

  it('stores nothing from callbacks the sandbox signs wrongly, counts them in health', async () => {
    t.sandbox.setFaults({ callbackBadSignature: 1 });
    const sent = await api<{ sid: string }>(t, 'POST', '/api/phone/sms', { to: '+14155550112', message: 'hi' });
    await t.sandbox.settle();
    t.sandbox.setFaults({});
    const callbacks = t.sandbox.callbacks().filter((c) => c.resourceSid === sent.body.sid);
    expect(callbacks.length).toBeGreaterThan(0);
    expect(callbacks.every((c) => c.status === 403)).toBe(true);
    expect(await count(t, 'webhook_events', 'sid = $1', [sent.body.sid])).toBe(0);
    const health = await api<{ webhooks: { rejected_signatures: number } }>(t, 'GET', '/api/phone/health', undefined, ['phone:view']);
    expect(health.body.webhooks.rejected_signatures).toBeGreaterThanOrEqual(callbacks.length);
  });
});
