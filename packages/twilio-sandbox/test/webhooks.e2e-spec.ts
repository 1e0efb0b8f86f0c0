import twilio from 'twilio';
import { splitConnectionOverrides } from '../src/callback-sender';
import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, type WebhookReceiver, param, sdkFor, useSandboxWithReceiver } from './sandbox-helpers';

describe('webhooks sent by the sandbox', () => {
  let sandbox: TwilioSandbox;
  let receiver: WebhookReceiver;
  useSandboxWithReceiver((s, r) => ((sandbox = s), (receiver = r)));

  const sendMessage = (statusCallback: string) =>
    sdkFor(sandbox).client.messages.create({ to: CUSTOMER, from: OWNED, body: 'hi', statusCallback });

  it('signs over the exact URL with its query and without the fragment, as twilio.validateRequest expects', async () => {
    await sendMessage(receiver.url('/cb?tenant=a%20b&x=1#rc=0'));
    await sandbox.settle();
    const [first] = receiver.to('/cb');
    expect(first.url).toBe(receiver.url('/cb?tenant=a%20b&x=1'));
    const signature = String(first.headers['x-twilio-signature']);
    expect(signature).toBe(twilio.getExpectedTwilioSignature(sandbox.authToken, first.url, first.params as Record<string, string>));
    expect(twilio.validateRequest(sandbox.authToken, signature, first.url, first.params)).toBe(true);
    expect(twilio.validateRequest('another-token', signature, first.url, first.params)).toBe(false);
  });

  it('sends an I-Twilio-Idempotency-Token that stays the same on a retry and differs between deliveries', async () => {
    let failed = false;
    receiver.on('/flaky', (req) => {
      if (param(req, 'MessageStatus') !== 'sent' || failed) return { status: 200 };
      failed = true;
      return { status: 503 };
    });
    await sendMessage(receiver.url('/flaky#rc=2&rp=5xx'));
    await sandbox.settle();
    const token = (status: string) =>
      receiver
        .to('/flaky')
        .filter((r) => param(r, 'MessageStatus') === status)
        .map((r) => String(r.headers['i-twilio-idempotency-token']));
    // sent: 503, then retried with 200; delivered: 200 at once
    expect(token('sent')).toHaveLength(2);
    expect(token('sent')[0]).toBeTruthy();
    expect(token('sent')[1]).toBe(token('sent')[0]);
    expect(token('delivered')).toHaveLength(1);
    expect(token('delivered')[0]).not.toBe(token('sent')[0]);
    const attempts = sandbox
      .callbacks()
      .filter((c) => c.url.endsWith('/flaky'))
      .map((c) => [c.params.MessageStatus, c.attempt, c.status]);
    expect(attempts).toEqual(
      expect.arrayContaining([
        ['sent', 1, 503],
        ['sent', 2, 200],
        ['delivered', 1, 200],
      ]),
    );
    expect(attempts).toHaveLength(3);
  });

  it('does not retry a 5xx answer by default (rp=ct) and retries connection failures once', async () => {
    receiver.on('/down', { status: 500 });
    await sendMessage(receiver.url('/down'));
    await sandbox.settle();
    expect(receiver.to('/down')).toHaveLength(2);
    sandbox.reset();
    await sendMessage('http://127.0.0.1:9/refused');
    await sandbox.settle();
    const attempts = sandbox.callbacks().filter((c) => c.url.includes('/refused'));
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 1, 2]);
    expect(attempts.every((a) => a.status === null && a.error)).toBe(true);
  });

  it('honours #rc for the retry count', async () => {
    receiver.on('/down', { status: 500 });
    await sendMessage(receiver.url('/down#rc=3&rp=all'));
    await sandbox.settle();
    expect(receiver.to('/down')).toHaveLength(8);
  });

  it('gives up after the #tt total time and records a timeout', async () => {
    receiver.on('/slow', { delayMs: 400 });
    await sendMessage(receiver.url('/slow#tt=150&rc=0'));
    await sandbox.settle();
    const attempts = sandbox.callbacks().filter((c) => c.url.endsWith('/slow'));
    expect(attempts).toHaveLength(2);
    expect(attempts.every((a) => a.status === null && a.error === 'timeout after 150 ms')).toBe(true);
  });

  it('caps the timeout at 15 s and parses the connection-override fragment', () => {
    expect(splitConnectionOverrides('https://h/p?q=1').overrides).toEqual({ retries: 1, policy: ['ct'], totalMs: 15_000 });
    expect(splitConnectionOverrides('https://h/p?q=1#tt=60000&rc=9&rp=4xx,5xx&ct=1000')).toEqual({
      url: 'https://h/p?q=1',
      overrides: { retries: 5, policy: ['4xx', '5xx'], totalMs: 15_000 },
    });
  });

  it('uses GET with the parameters in the query when StatusCallbackMethod is GET', async () => {
    const { client } = sdkFor(sandbox);
    await client.calls.create({
      to: CUSTOMER,
      from: OWNED,
      twiml: '<Response/>',
      statusCallback: receiver.url('/get-cb'),
      statusCallbackMethod: 'GET',
    });
    await sandbox.settle();
    const [req] = receiver.to('/get-cb');
    expect(req.method).toBe('GET');
    expect(param(req, 'CallStatus')).toBe('completed');
    expect(twilio.validateRequest(sandbox.authToken, String(req.headers['x-twilio-signature']), req.url, {})).toBe(true);
  });

  it('exposes every delivery through the inspection API', async () => {
    await sendMessage(receiver.url('/cb'));
    await sandbox.settle();
    const response = await fetch(`${sandbox.baseUrl}/sandbox/callbacks`);
    const { callbacks } = (await response.json()) as { callbacks: Record<string, unknown>[] };
    expect(callbacks.map((c) => (c.params as Record<string, string>).MessageStatus).sort()).toEqual(['delivered', 'sent']);
    expect(callbacks[0]).toMatchObject({ kind: 'message-status', status: 200, attempt: 1, url: receiver.url('/cb') });
    expect((callbacks[0].headers as Record<string, string>)['X-Twilio-Signature']).toBeTruthy();
  });
});
