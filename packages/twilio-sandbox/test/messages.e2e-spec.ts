import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, WebhookReceiver, param, sdkFor, startSandbox, useSandboxWithReceiver } from './sandbox-helpers';

describe('messages: segments and lifecycle', () => {
  let sandbox: TwilioSandbox;
  let receiver: WebhookReceiver;
  useSandboxWithReceiver((s, r) => ((sandbox = s), (receiver = r)));

  it.each([
    ['160 GSM-7 characters', '1', 'a'.repeat(160)],
    ['161 GSM-7 characters', '2', 'a'.repeat(161)],
    ['306 GSM-7 characters', '2', 'a'.repeat(306)],
    ['307 GSM-7 characters', '3', 'a'.repeat(307)],
    ['80 extension characters (2 septets each)', '1', '€'.repeat(80)],
    ['81 extension characters', '2', '€'.repeat(81)],
    ['159 GSM-7 + one extension character', '2', 'a'.repeat(159) + '{'],
    ['70 UCS-2 characters', '1', 'ж'.repeat(70)],
    ['71 UCS-2 characters', '2', 'ж'.repeat(71)],
    ['134 UCS-2 characters', '2', 'ж'.repeat(134)],
    ['135 UCS-2 characters', '3', 'ж'.repeat(135)],
    ['one emoji turns 100 GSM characters into UCS-2', '2', 'a'.repeat(100) + '😀'],
  ])('counts %s as %s segment(s)', async (_label, segments, body) => {
    const { client } = sdkFor(sandbox);
    const message = await client.messages.create({ to: CUSTOMER, from: OWNED, body });
    expect(message.numSegments).toBe(segments);
  });

  it('goes queued → sending → sent → delivered, with sent and delivered callbacks and a price only at the end', async () => {
    const { client } = sdkFor(sandbox);
    const body = 'b'.repeat(200);
    const created = await client.messages.create({ to: CUSTOMER, from: OWNED, body, statusCallback: receiver.url('/sms-status') });
    expect(created.status).toBe('queued');
    expect(created.price).toBeNull();
    await sandbox.settle();
    const callbacks = receiver.to('/sms-status');
    expect(callbacks.map((r) => param(r, 'MessageStatus')).sort()).toEqual(['delivered', 'sent']);
    for (const cb of callbacks) {
      expect(receiver.isTwilioSigned(cb, sandbox.authToken)).toBe(true);
      expect(cb.params).toMatchObject({
        MessageSid: created.sid,
        SmsSid: created.sid,
        AccountSid: sandbox.accountSid,
        From: OWNED,
        To: CUSTOMER,
      });
      expect(param(cb, 'SmsStatus')).toBe(param(cb, 'MessageStatus'));
      expect(param(cb, 'ErrorCode')).toBeUndefined();
    }
    const delivered = callbacks.find((r) => param(r, 'MessageStatus') === 'delivered');
    expect(param(delivered, 'RawDlrDoneDate')).toMatch(/^\d{10}$/);
    const message = await client.messages(created.sid).fetch();
    expect(message).toMatchObject({ status: 'delivered', price: '-0.01500', priceUnit: 'USD', numSegments: '2' });
    expect(message.dateSent).toBeInstanceOf(Date);
  });

  it('x2222 ends undelivered with 30003 and x3333 fails with 30008, reported in the callback', async () => {
    const { client } = sdkFor(sandbox);
    const undelivered = await client.messages.create({ to: '+14155552222', from: OWNED, body: 'x', statusCallback: receiver.url('/u') });
    const failed = await client.messages.create({ to: '+14155553333', from: OWNED, body: 'x', statusCallback: receiver.url('/f') });
    await sandbox.settle();
    expect(await client.messages(undelivered.sid).fetch()).toMatchObject({ status: 'undelivered', errorCode: 30003, price: '-0.00750' });
    expect(await client.messages(failed.sid).fetch()).toMatchObject({ status: 'failed', errorCode: 30008, price: '0.00000' });
    const u = receiver.to('/u').find((r) => param(r, 'MessageStatus') === 'undelivered');
    expect(param(u, 'ErrorCode')).toBe('30003');
    expect(receiver.to('/f').map((r) => [param(r, 'MessageStatus'), param(r, 'ErrorCode')])).toEqual([['failed', '30008']]);
  });

  it('sends one segment per second per sender', async () => {
    const paced = await startSandbox({ speed: 50 });
    try {
      const { client } = sdkFor(paced);
      const a = await client.messages.create({ to: CUSTOMER, from: OWNED, body: 'c'.repeat(400) });
      const b = await client.messages.create({ to: CUSTOMER, from: OWNED, body: 'second' });
      await paced.settle();
      const [first, second] = [await client.messages(a.sid).fetch(), await client.messages(b.sid).fetch()];
      expect(first.numSegments).toBe('3');
      expect(second.dateSent.getTime() - first.dateSent.getTime()).toBeGreaterThanOrEqual(2000);
    } finally {
      await paced.stop();
    }
  });
});
