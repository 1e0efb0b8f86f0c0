import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxCallView } from '@samsaek/twilio-sandbox';
import { twilioCallbackUrl } from '../../src/common/twilio-callback-url';
import { createTwilioClient, type TwilioClient } from '../../src/twilio/twilio-http-client';
import { request } from '../support/http';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { count, fakeSid, postWebhook } from './webhook-helpers';

/**
 * An inbound call whose TwiML makes no later request (INBOUND_ACTION=hangup: a greeting, then
 * <Hangup/>) is heard of once, ringing. How it ended must reach GET calls/history on its own, with
 * no GET of the call: through the number's status callback when we wire the number, through
 * reconciliation's prompt follow-up when someone else's voice URL answers it.
 */

const CALLER = '+14155550164';

interface HistoryCall {
  sid: string;
  direction: string;
  status: string;
  duration: number | null;
}

function sandboxClient(t: TestApp): TwilioClient {
  return createTwilioClient(t.sandbox.accountSid, t.sandbox.authToken, { baseUrl: t.sandbox.baseUrl });
}

/** The call as GET calls/history shows it (history never asks Twilio). */
async function inHistory(t: TestApp, sid: string): Promise<HistoryCall | undefined> {
  const res = await request<{ calls: HistoryCall[] }>(t, 'GET', '/api/phone/calls/history?direction=inbound&limit=100', {
    token: t.token(['phone:view']),
  });
  expect(res.status).toBe(200);
  return res.body.calls.find((c) => c.sid === sid);
}

/** Rings `to` from the sandbox and waits until the sandbox (Twilio) has ended the call, after our greeting. */
async function ring(t: TestApp, to: string, verbs = ['Say', 'Hangup']): Promise<SandboxCallView> {
  const sid = await t.sandbox.deliverInboundCall({ from: CALLER, to });
  await t.sandbox.settle();
  const call = t.sandbox.calls().find((c) => c.sid === sid)!;
  expect(call.status).toBe('completed');
  expect(call.executed.map((v) => v.verb)).toEqual(verbs);
  expect(call.duration).toBeGreaterThan(0);
  return call;
}

/** History shows the call completed, with Twilio's duration, within `timeoutMs`. */
async function expectCompletedInHistory(t: TestApp, call: SandboxCallView, timeoutMs: number): Promise<void> {
  const shown = await eventually(
    async () => {
      const found = await inHistory(t, call.sid);
      return found?.status === 'completed' ? found : null;
    },
    timeoutMs,
    100,
  ).catch(async (error: unknown) => {
    throw new Error(`history shows ${JSON.stringify(await inHistory(t, call.sid))}: ${String(error)}`);
  });
  expect(shown).toMatchObject({ direction: 'inbound', status: 'completed', duration: call.duration });
}

async function numberAtTwilio(t: TestApp, phoneNumber: string) {
  const [number] = await sandboxClient(t).incomingPhoneNumbers.list({ phoneNumber });
  return number;
}

describe('numbers the service wires send the end of their inbound calls to our status webhook', () => {
  let t: TestApp;
  let ourStatus: string;

  beforeAll(async () => {
    t = await startTestApp({ INBOUND_ACTION: 'hangup' });
    ourStatus = twilioCallbackUrl(t.config.twilio, '/status');
  });
  afterAll(async () => t?.close());

  it('the sandbox default number, wired at start', async () => {
    const number = await numberAtTwilio(t, t.config.twilio.phoneNumber);
    expect(number).toMatchObject({ statusCallback: ourStatus, statusCallbackMethod: 'POST' });
    await expectCompletedInHistory(t, await ring(t, t.config.twilio.phoneNumber), 5_000);
  });

  it('a number bought through POST numbers/purchase', async () => {
    const bought = await request(t, 'POST', '/api/phone/numbers/purchase', {
      token: t.token(['phone:admin']),
      body: { phone_number: '+14155550131' },
    });
    expect(bought.status, JSON.stringify(bought.body)).toBe(201);
    expect(bought.body.status_callback_url).toBe(ourStatus);
    expect(await numberAtTwilio(t, '+14155550131')).toMatchObject({ statusCallback: ourStatus, statusCallbackMethod: 'POST' });
    await expectCompletedInHistory(t, await ring(t, '+14155550131'), 5_000);
  });

  it('a number set up by hand with GET webhooks, then configured with PATCH numbers/{sid}', async () => {
    const client = sandboxClient(t);
    const elsewhere = 'https://elsewhere.example/hooks';
    const number = await client.incomingPhoneNumbers.create({
      phoneNumber: '+14155550132',
      voiceUrl: `${elsewhere}/voice`,
      voiceMethod: 'GET',
      smsUrl: `${elsewhere}/sms`,
      smsMethod: 'GET',
      statusCallback: `${elsewhere}/status`,
      statusCallbackMethod: 'GET',
    });
    await request(t, 'GET', '/api/phone/numbers', { token: t.token(['phone:view']) });
    const patched = await request(t, 'PATCH', `/api/phone/numbers/${number.sid}`, {
      token: t.token(['phone:admin']),
      body: { webhook_url: t.config.twilio.webhookBaseUrl },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.status_callback_url).toBe(`${t.config.twilio.webhookBaseUrl}/status`);
    // our webhooks take POST only: every URL set comes with its method
    expect(await numberAtTwilio(t, '+14155550132')).toMatchObject({
      voiceUrl: `${t.config.twilio.webhookBaseUrl}/call`,
      voiceMethod: 'POST',
      smsMethod: 'POST',
      statusCallback: `${t.config.twilio.webhookBaseUrl}/status`,
      statusCallbackMethod: 'POST',
    });
    await expectCompletedInHistory(t, await ring(t, '+14155550132'), 5_000);
  });
});

describe('the numbers sync points a number answered by our voice webhook at our status webhook', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ INBOUND_ACTION: 'hangup', NUMBERS_SYNC_INTERVAL_SECONDS: '1' });
  });
  afterAll(async () => t?.close());

  it("repairs a missing status callback, leaves a number answered by someone else's voice URL alone", async () => {
    const client = sandboxClient(t);
    const base = t.config.twilio.webhookBaseUrl;
    // wired by hand (or by an older version) without a status callback
    await client.incomingPhoneNumbers.create({ phoneNumber: '+14155550141', voiceUrl: `${base}/call`, smsUrl: `${base}/sms` });
    await client.incomingPhoneNumbers.create({ phoneNumber: '+14155550142', voiceUrl: 'https://studio.example/flow' });

    const ourStatus = twilioCallbackUrl(t.config.twilio, '/status');
    const repaired = await eventually(
      async () => {
        const number = await numberAtTwilio(t, '+14155550141');
        return number.statusCallback === ourStatus ? number : null;
      },
      5_000,
      100,
    );
    expect(repaired).toMatchObject({ statusCallbackMethod: 'POST', voiceUrl: `${base}/call`, smsUrl: `${base}/sms` });
    expect(await numberAtTwilio(t, '+14155550142')).toMatchObject({ voiceUrl: 'https://studio.example/flow', statusCallback: null });

    const listed = await request(t, 'GET', '/api/phone/numbers', { token: t.token(['phone:view']) });
    expect(listed.body.numbers.find((n: { phone_number: string }) => n.phone_number === '+14155550141')).toMatchObject({
      status_callback_url: ourStatus,
    });

    await expectCompletedInHistory(t, await ring(t, '+14155550141'), 5_000);
  });
});

describe('reconciliation follows a live inbound call on a number that does not report to us', () => {
  let t: TestApp;
  let foreignApp: Server;
  let foreignUrl: string;

  beforeAll(async () => {
    t = await startTestApp({
      INBOUND_ACTION: 'hangup',
      RECONCILE_ENABLED: 'true',
      // only the live-call follow-up can end the call in time: the full run and the stale refresh wait an hour
      RECONCILE_INTERVAL_SECONDS: '3600',
      RECONCILE_STALE_AFTER_SECONDS: '3600',
      RECONCILE_INBOUND_AFTER_SECONDS: '1',
    });
    // someone else's voice app in front of ours: it hands every call over to our voice webhook
    foreignApp = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'text/xml' });
        res.end(`<Response><Redirect method="POST">${t.config.twilio.webhookBaseUrl}/call</Redirect></Response>`);
      });
    });
    await new Promise<void>((resolve) => foreignApp.listen(0, '127.0.0.1', resolve));
    foreignUrl = `http://127.0.0.1:${(foreignApp.address() as AddressInfo).port}/voice`;
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => foreignApp?.close(resolve));
  });

  it('history shows the call completed with its duration within seconds of the end, with no GET of the call', async () => {
    await sandboxClient(t).incomingPhoneNumbers.create({ phoneNumber: '+14155550151', voiceUrl: foreignUrl });
    const call = await ring(t, '+14155550151', ['Redirect', 'Say', 'Hangup']);
    // our voice webhook heard of the call (through the redirect); no status callback comes
    expect(
      t.sandbox
        .callbacks()
        .filter((c) => c.resourceSid === call.sid)
        .map((c) => [c.kind, c.status]),
    ).toEqual([
      ['voice-url', 200],
      ['redirect', 200],
    ]);
    await expectCompletedInHistory(t, call, 8_000);
  });

  it('asks Twilio about live calls on numbers that do not report to us only, never about those that do', async () => {
    // the default number sends its calls' end to our status webhook (wired at start, recorded by the list)
    expect((await request(t, 'GET', '/api/phone/numbers', { token: t.token(['phone:view']) })).status).toBe(200);
    const onWired = fakeSid('CA');
    const onForeign = fakeSid('CA');
    for (const [sid, to] of [
      [onWired, t.config.twilio.phoneNumber],
      [onForeign, '+14155550151'],
    ]) {
      const res = await postWebhook(t, 'call', { CallSid: sid, From: CALLER, To: to, CallStatus: 'ringing', Direction: 'inbound' });
      expect(res.status).toBe(200);
    }
    // neither call exists at Twilio: the one asked about is set aside at once (404)
    await eventually(
      async () => (await count(t, 'call_records', 'sid = $1 AND reconcile_set_aside_at IS NOT NULL', [onForeign])) === 1,
      8_000,
    );
    expect(
      await count(t, 'call_records', "sid = $1 AND status = 'ringing' AND synced_at IS NULL AND reconcile_set_aside_at IS NULL", [onWired]),
    ).toBe(1);
  });
});
