import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CUSTOMER, OWNED, expectRestError, sdkFor, startSandbox } from './sandbox-helpers';

describe('stateFile: the account survives a restart', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-state-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a restarted sandbox still owns the numbers it sold and still answers for its messages and balance', async () => {
    const stateFile = join(dir, 'account.json');
    const first = await startSandbox({ stateFile });
    const { client } = sdkFor(first);
    const bought = await client.incomingPhoneNumbers.create({ phoneNumber: '+14155550123', friendlyName: 'Kept' });
    const sent = await client.messages.create({ to: CUSTOMER, from: OWNED, body: 'before the restart' });
    await first.settle();
    const balance = (await client.balance.fetch()).balance;
    await first.stop();

    const second = await startSandbox({ stateFile });
    try {
      const again = sdkFor(second).client;
      const owned = await again.incomingPhoneNumbers.list();
      expect(owned.map((n) => [n.phoneNumber, n.sid]).sort()).toEqual(
        [
          [OWNED, expect.any(String)],
          ['+14155550123', bought.sid],
        ].sort(),
      );
      // the account number is not provisioned twice
      expect(owned.filter((n) => n.phoneNumber === OWNED)).toHaveLength(1);
      const message = await again.messages(sent.sid).fetch();
      expect(message).toMatchObject({ status: 'delivered', body: 'before the restart' });
      expect(message.dateCreated).toBeInstanceOf(Date);
      expect((await again.balance.fetch()).balance).toBe(balance);
    } finally {
      await second.stop();
    }
  });

  it('a call still in progress at the stop has completed when the sandbox is back, with its talk time and price', async () => {
    const stateFile = join(dir, 'open-call.json');
    const first = await startSandbox({ stateFile });
    const { client } = sdkFor(first);
    // a call to …5555 stays in progress until it is hung up
    const call = await client.calls.create({ to: '+14155555555', from: OWNED, twiml: '<Response><Pause length="5"/></Response>' });
    await expect.poll(() => first.calls().find((c) => c.sid === call.sid)?.status, { timeout: 5_000 }).toBe('in-progress');
    await new Promise((r) => setTimeout(r, 100));
    await first.stop();

    const second = await startSandbox({ stateFile });
    try {
      const fetched = await sdkFor(second).client.calls(call.sid).fetch();
      expect(fetched.status).toBe('completed');
      expect(Number(fetched.duration)).toBeGreaterThanOrEqual(0);
      expect(Number(fetched.price)).toBeLessThan(0);
    } finally {
      await second.stop();
    }
  });

  it('without stateFile every start is empty', async () => {
    const first = await startSandbox();
    const sent = await sdkFor(first).client.messages.create({ to: CUSTOMER, from: OWNED, body: 'gone' });
    await first.stop();
    const second = await startSandbox();
    try {
      await expectRestError(sdkFor(second).client.messages(sent.sid).fetch(), 404, 20404);
    } finally {
      await second.stop();
    }
  });

  it('refuses to start on a file it cannot read rather than starting empty', async () => {
    const stateFile = join(dir, 'broken.json');
    writeFileSync(stateFile, '{"format": 99}');
    await expect(startSandbox({ stateFile })).rejects.toThrow(/unknown sandbox state format/);
  });
});
