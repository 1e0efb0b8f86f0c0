import type PgBoss from 'pg-boss';
import { settleQuietly } from './event-delivery.service';

describe('settleQuietly', () => {
  it('turns a complete or fail the database refused into a logged null instead of an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const calls: string[] = [];
      const boss = {
        complete: (...args: unknown[]) => {
          calls.push(`complete ${JSON.stringify(args)}`);
          return Promise.reject(new Error('timeout exceeded when trying to connect'));
        },
        fail: (...args: unknown[]) => {
          calls.push(`fail ${JSON.stringify(args)}`);
          return Promise.reject(new Error('timeout exceeded when trying to connect'));
        },
      };
      settleQuietly(boss as unknown as PgBoss);
      // pg-boss calls these without awaiting them, as its worker does after each batch
      void boss.complete('event-delivery', ['a']);
      void boss.fail('event-delivery', ['b'], new Error('endpoint answered 500'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(calls).toEqual(['complete ["event-delivery",["a"]]', 'fail ["event-delivery",["b"],{}]']);
      expect(unhandled).toEqual([]);
      await expect(boss.complete('event-delivery', ['c'])).resolves.toBeNull();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
