import twilio from 'twilio';
import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, WebhookReceiver, expectRestError, param, sdkFor, startSandbox, useSandboxWithReceiver } from './sandbox-helpers';

describe('faults on demand', () => {
  let sandbox: TwilioSandbox;
  let receiver: WebhookReceiver;
  useSandboxWithReceiver((s, r) => ((sandbox = s), (receiver = r)));

  it('answers 429 / 20429, which the SDK retries with autoRetry until it gives up', async () => {
    sandbox.setFaults({ rateLimit: 1 });
    const { client, http } = sdkFor(sandbox, { autoRetry: true, maxRetries: 2 });
    const before = sandbox.apiRequestCount;
    await expectRestError(client.balance.fetch(), 429, 20429);
    expect(sandbox.apiRequestCount - before).toBe(3);
    expect(http.last().body).toEqual({
      code: 20429,
      message: 'Too Many Requests',
      more_info: 'https://www.twilio.com/docs/errors/20429',
      status: 429,
    });
    sandbox.setFaults({});
    expect((await client.balance.fetch()).currency).toBe('USD');
  });

  it('answers 500 / 20500 on demand', async () => {
    sandbox.setFaults({ serverError: 1 });
    await expectRestError(sdkFor(sandbox).client.calls.list(), 500, 20500);
  });

  it('produces the same sequence of API faults for the same seed', async () => {
    const outcomes = async (seed: number) => {
      sandbox.setFaults({ seed, rateLimit: 0.5 });
      const { client } = sdkFor(sandbox);
      const results: string[] = [];
      for (let i = 0; i < 12; i++) {
        results.push(
          await client.balance.fetch().then(
            () => 'ok',
            (e: twilio.RestException) => String(e.status),
          ),
        );
      }
      return results.join(',');
    };
    const first = await outcomes(42);
    expect(first).toContain('429');
    expect(first).toContain('ok');
    expect(await outcomes(42)).toBe(first);
    expect(await outcomes(43)).not.toBe(first);
  });

  it('answers slowly, and a request that never gets an answer hits the client timeout', async () => {
    sandbox.setFaults({ slow: 1, slowMs: 250 });
    const started = Date.now();
    await sdkFor(sandbox).client.balance.fetch();
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);

    sandbox.setFaults({ timeout: 1 });
    const { client } = sdkFor(sandbox, { timeoutMs: 200 });
    const err = await client.balance.fetch().then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(twilio.RestException);
    expect(String((err as Error & { code?: string }).code ?? err?.message)).toMatch(/ECONNABORTED|timeout/i);
  });

  it('duplicates callbacks with the same idempotency token', async () => {
    sandbox.setFaults({ callbackDuplicate: 1 });
    await sdkFor(sandbox).client.messages.create({ to: CUSTOMER, from: OWNED, body: 'x', statusCallback: receiver.url('/cb') });
    await sandbox.settle();
    const requests = receiver.to('/cb');
    expect(requests.map((r) => param(r, 'MessageStatus')).sort()).toEqual(['delivered', 'delivered', 'sent', 'sent']);
    const tokens = (status: string) =>
      requests.filter((r) => param(r, 'MessageStatus') === status).map((r) => r.headers['i-twilio-idempotency-token']);
    expect(new Set(tokens('sent')).size).toBe(1);
    expect(tokens('sent')[0]).not.toBe(tokens('delivered')[0]);
  });

  it('drops callbacks and records them as dropped', async () => {
    sandbox.setFaults({ callbackDrop: 1 });
    await sdkFor(sandbox).client.messages.create({ to: CUSTOMER, from: OWNED, body: 'x', statusCallback: receiver.url('/cb') });
    await sandbox.settle();
    expect(receiver.to('/cb')).toHaveLength(0);
    expect(sandbox.callbacks().map((c) => c.error)).toEqual(['dropped', 'dropped']);
  });

  it('sends callbacks whose signature does not verify', async () => {
    sandbox.setFaults({ callbackBadSignature: 1 });
    await sdkFor(sandbox).client.messages.create({ to: CUSTOMER, from: OWNED, body: 'x', statusCallback: receiver.url('/cb') });
    await sandbox.settle();
    const requests = receiver.to('/cb');
    expect(requests).toHaveLength(2);
    expect(requests.some((r) => receiver.isTwilioSigned(r, sandbox.authToken))).toBe(false);
  });

  it('delays callbacks by the configured virtual seconds', async () => {
    const slow = await startSandbox({ speed: 100 });
    try {
      slow.setFaults({ callbackDelay: 1, delaySeconds: 30 });
      const { client } = sdkFor(slow);
      const started = Date.now();
      await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response/>', statusCallback: receiver.url('/late') });
      await slow.settle();
      // the call itself takes ~6 virtual s; the 30 s hold adds 300 ms of real time at speed 100
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(receiver.to('/late')).toHaveLength(1);
    } finally {
      await slow.stop();
    }
  });

  it('reorders callbacks so a later status can arrive first, deterministically under the seed', async () => {
    const arrivalOrders = async (seed: number) => {
      sandbox.reset();
      receiver.clear();
      sandbox.setFaults({ seed, callbackReorder: 1, reorderSeconds: 20 });
      const { client } = sdkFor(sandbox);
      for (let i = 0; i < 4; i++) {
        await client.calls.create({
          to: CUSTOMER,
          from: OWNED,
          twiml: '<Response/>',
          statusCallback: receiver.url(`/order-${i}`),
          statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        });
      }
      await sandbox.settle();
      return [0, 1, 2, 3].map((i) =>
        receiver
          .to(`/order-${i}`)
          .map((r) => param(r, 'SequenceNumber'))
          .join(''),
      );
    };
    const orders = await arrivalOrders(5);
    expect(orders.every((o) => o.length === 4)).toBe(true);
    expect(orders.some((o) => o !== '0123')).toBe(true);
  });

  it('accepts the same knobs through POST /sandbox/faults and rejects unknown ones', async () => {
    const ok = await fetch(`${sandbox.baseUrl}/sandbox/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ serverError: 1 }),
    });
    expect(ok.status).toBe(200);
    await expectRestError(sdkFor(sandbox).client.balance.fetch(), 500, 20500);
    const bad = await fetch(`${sandbox.baseUrl}/sandbox/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ explode: 1 }),
    });
    expect(bad.status).toBe(400);
  });
});
