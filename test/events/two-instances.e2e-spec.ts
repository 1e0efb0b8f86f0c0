import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventDeliveryService } from '../../src/events/event-delivery.service';
import { EventsService } from '../../src/events/events.service';
import { EventReceiver } from '../support/event-receiver';
import { request } from '../support/http';
import { type SecondInstance, eventually, startSecondInstance, startTestApp, type TestApp } from '../support/test-app';

const EVENTS = 240;

/** The same delivery settings on both instances: a few attempts at a time each, so one cannot take every job. */
const DELIVERY_ENV = {
  ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
  EVENT_RELAY_INTERVAL_MS: '50',
  EVENT_DELIVERY_CONCURRENCY: '4',
  EVENT_DELIVERY_TIMEOUT_MS: '5000',
};

/** Counts the delivery attempts one instance makes (its EventDeliveryService's own attempts). */
function countAttempts(app: INestApplication): { count: number } {
  const counter = { count: 0 };
  const instance: unknown = app.get(EventDeliveryService);
  // its one attempt method, private: counted without changing what it does
  const service = instance as { deliver: (...args: unknown[]) => Promise<unknown> };
  const deliver = service.deliver.bind(service);
  service.deliver = (...args: unknown[]) => {
    counter.count++;
    return deliver(...args);
  };
  return counter;
}

describe.skipIf(!process.env.DATABASE_URL)(
  `two instances delivering events from one database (${process.env.DATABASE_URL ? 'Postgres' : 'needs DATABASE_URL: embedded PGlite serves a single process'})`,
  () => {
    let a: TestApp;
    let b: SecondInstance;
    let receiver: EventReceiver;

    beforeAll(async () => {
      receiver = await new EventReceiver().start();
      a = await startTestApp(DELIVERY_ENV);
      b = await startSecondInstance(a, DELIVERY_ENV);
    }, 60_000);

    afterAll(async () => {
      await b?.close();
      await a?.close();
      await receiver?.stop();
    });

    it('delivers every event once, the work shared by both', { timeout: 60_000 }, async () => {
      const created = await request(a, 'POST', '/api/phone/event-endpoints', {
        token: a.token(['phone:admin']),
        body: { url: receiver.url, event_types: ['sms.sent'] },
      });
      expect(created.status).toBe(201);
      receiver.secrets.push(created.body.secret);
      // a receiver that takes a moment, as a real one does: attempts overlap and both instances fetch work
      receiver.delayMs = 20;
      const byA = countAttempts(a.app);
      const byB = countAttempts(b.app);

      // the changes happen on both instances, in batches, as traffic would
      const sids: string[] = [];
      for (let batch = 0; batch < EVENTS / 20; batch++) {
        const app = batch % 2 ? b.app : a.app;
        const events = app.get(EventsService);
        await app.get(DataSource).transaction(async (tx) => {
          for (let i = 0; i < 20; i++) {
            const sid = `SM${String(batch * 20 + i).padStart(32, '0')}`;
            sids.push(sid);
            await events.record(tx, 'sms.sent', { type: 'message', sid, object: { sid, status: 'sent' } });
          }
        });
      }

      await eventually(async () => new Set(receiver.received.map((e) => e.body.id)).size >= EVENTS, 45_000, 100);
      // anything sent twice would arrive within a relay interval or two
      await new Promise((resolve) => setTimeout(resolve, 1000));

      expect(receiver.received.every((e) => e.verifiedBy.length === 1)).toBe(true);
      expect(new Set(receiver.received.map((e) => e.body.data.object.sid))).toEqual(new Set(sids));
      const ids = receiver.received.map((e) => e.body.id as string);
      expect(ids).toHaveLength(EVENTS);
      expect(new Set(ids).size).toBe(EVENTS);
      expect(byA.count + byB.count).toBe(EVENTS);
      expect(byA.count).toBeGreaterThan(0);
      expect(byB.count).toBeGreaterThan(0);

      const listed = await request(a, 'GET', '/api/phone/events?type=sms.sent&delivery_state=delivered&limit=100', {
        token: a.token(['phone:admin']),
      });
      expect(listed.status).toBe(200);
      expect(listed.body.events).toHaveLength(100);
      for (const event of listed.body.events) expect(event.deliveries[0].attempts).toHaveLength(1);
    });
  },
);
