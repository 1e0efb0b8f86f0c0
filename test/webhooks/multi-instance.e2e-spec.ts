import { createServer, request as httpRequest, type Server } from 'node:http';
import { mintToken } from '../../src/auth/token';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { type SecondInstance, freePort, startSecondInstance, startTestApp, type TestApp } from '../support/test-app';
import { count } from './webhook-helpers';

/** Round-robin HTTP forwarder: Twilio's callbacks land on either instance, in whatever order they come. */
async function roundRobin(port: number): Promise<{ server: Server; targets: string[]; hits: number[] }> {
  const targets: string[] = [];
  const hits: number[] = [];
  let next = 0;
  const server = createServer((req, res) => {
    const i = next++ % targets.length;
    hits[i] = (hits[i] ?? 0) + 1;
    const target = new URL(req.url ?? '/', targets[i]);
    const upstream = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, targets, hits };
}

const skipReason = 'needs DATABASE_URL (Postgres): embedded PGlite serves a single process';

describe.skipIf(!process.env.DATABASE_URL)(
  `two service instances on one database (${process.env.DATABASE_URL ? 'Postgres' : skipReason})`,
  () => {
    let a: TestApp;
    let b: SecondInstance;
    let forwarder: Awaited<ReturnType<typeof roundRobin>>;

    beforeAll(async () => {
      const forwardPort = await freePort();
      forwarder = await roundRobin(forwardPort);
      const webhookUrl = `http://127.0.0.1:${forwardPort}/api/phone/webhook`;
      a = await startTestApp({ SAMSAEK_TWILIO_WEBHOOK_URL: webhookUrl });
      b = await startSecondInstance(a);
      forwarder.targets.push(a.baseUrl, b.baseUrl);
    });

    afterAll(async () => {
      await b?.close();
      await a?.close();
      await new Promise((resolve) => forwarder?.server.close(resolve));
    });

    it('callbacks spread over both instances, duplicated and reordered, give the records one process would', async () => {
      a.sandbox.setFaults({ seed: 7, callbackDuplicate: 0.5, callbackReorder: 0.7, reorderSeconds: 20, callbackDrop: 0.1 });
      const token = mintToken(a.config, { sub: 'tester', permissions: ['phone:admin'], ttl: '1h' });
      const sids: { kind: 'call' | 'sms'; sid: string }[] = [];
      const suffixes = ['0100', '1111', '2222', '3333', '4444'];
      for (let i = 0; i < 10; i++) {
        const base = i % 2 === 0 ? a.baseUrl : b.baseUrl;
        const kind = i % 3 === 0 ? 'sms' : 'call';
        const body =
          kind === 'call'
            ? { to: `+1415555${suffixes[i % 5]}`, message: 'multi instance', record: i % 4 === 1, timeout: 10 }
            : { to: `+1415555${suffixes[i % 5]}`, message: `m${i}` };
        const res = await fetch(`${base}/api/phone/${kind === 'call' ? 'call' : 'sms'}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status).toBe(201);
        sids.push({ kind, sid: ((await res.json()) as { sid: string }).sid });
      }
      await a.sandbox.settle();
      a.sandbox.setFaults({});
      await Promise.all([
        a.app.get(ReconcileService).runOnce({ olderThanSeconds: 0 }),
        b.app.get(ReconcileService).runOnce({ olderThanSeconds: 0 }),
      ]);

      expect(forwarder.hits[0]).toBeGreaterThan(0);
      expect(forwarder.hits[1]).toBeGreaterThan(0);
      const calls = new Map(a.sandbox.calls().map((c) => [c.sid, c]));
      const messages = new Map(a.sandbox.messages().map((m) => [m.sid, m]));
      for (const { kind, sid } of sids) {
        const res = await fetch(`${a.baseUrl}/api/phone/${kind === 'call' ? 'calls' : 'sms'}/${sid}`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        const got = (await res.json()) as { status: string; duration?: number | null; error_code?: number | null; price: string | null };
        if (kind === 'call') {
          const truth = calls.get(sid)!;
          expect({ sid, status: got.status, duration: got.duration }).toEqual({ sid, status: truth.status, duration: truth.duration });
          expect(Number(got.price ?? 'NaN')).toBe(truth.price === 0 ? 0 : -truth.price! / 100_000);
        } else {
          const truth = messages.get(sid)!;
          expect({ sid, status: got.status, error_code: got.error_code }).toEqual({
            sid,
            status: truth.status,
            error_code: truth.errorCode,
          });
        }
      }
      expect(await count(a, 'call_records')).toBe(sids.filter((s) => s.kind === 'call').length);
      expect(await count(a, 'message_records')).toBe(sids.filter((s) => s.kind === 'sms').length);
      const dupEvents = await count(a, '(SELECT dedupe_key FROM webhook_events GROUP BY dedupe_key HAVING count(*) > 1) d');
      expect(dupEvents).toBe(0);
      const dupTimeline = await count(
        a,
        '(SELECT resource_sid, status, sequence_number FROM status_events GROUP BY 1, 2, 3 HAVING count(*) > 1) d',
      );
      expect(dupTimeline).toBe(0);
    });
  },
);
