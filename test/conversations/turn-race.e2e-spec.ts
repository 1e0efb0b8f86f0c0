import { Client } from 'pg';
import { AgentServer } from '../support/agent-server';
import { request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';
import { fakeSid, postWebhook } from '../webhooks/webhook-helpers';

const CALLER = '+14155550143';

// Two connections writing the same call's turns at once need a database server: embedded PGlite serves one.
describe.skipIf(!process.env.DATABASE_URL)('a turn stored while another write takes the same place in the conversation', () => {
  let t: TestApp;
  let agent: AgentServer;
  let admin: string;
  let ourNumber: string;

  beforeAll(async () => {
    agent = await new AgentServer().start();
    t = await startTestApp({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true' });
    admin = t.token(['phone:admin']);
    const created = await request(t, 'POST', '/api/phone/assistants', {
      token: admin,
      body: { name: 'Front desk', agent_url: agent.url, greeting: 'Front desk, how can I help?' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    agent.secret = created.body.secret;
    const bought = await request(t, 'POST', '/api/phone/numbers/purchase', { token: admin, body: { phone_number: '+14155550189' } });
    expect(bought.status).toBe(201);
    ourNumber = bought.body.phone_number;
    await request(t, 'PATCH', `/api/phone/numbers/${bought.body.sid}`, { token: admin, body: { assistant_id: created.body.id } });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await agent?.stop();
  });

  it("stores the caller's turn after the other write commits, and the conversation goes on", async () => {
    const sid = fakeSid('CA');
    const ring = await postWebhook(t, 'call', { CallSid: sid, From: CALLER, To: ourNumber, CallStatus: 'ringing', Direction: 'inbound' });
    expect(ring.status).toBe(200);
    agent.reply = () => ({ say: 'Sure, which day?' });

    // another writer (a mid-call say on another instance) holds the call's next turn, not committed yet
    const other = new Client({ connectionString: t.config.database.url! });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO call_turns (id, call_sid, seq, role, text)
         SELECT gen_random_uuid(), $1::varchar, COALESCE(MAX(seq), 0) + 1, 'assistant', 'One moment, please.' FROM call_turns WHERE call_sid = $1::varchar`,
        [sid],
      );
      const answer = postWebhook(
        t,
        'gather',
        { CallSid: sid, From: CALLER, To: ourNumber, SpeechResult: 'I need a cleaning', Confidence: '0.9' },
        { query: '?step=1' },
      );
      // the service's insert waits for that row's fate
      await eventually(async () => {
        const { rows } = await other.query(
          "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        return rows.length > 0;
      });
      await other.query('COMMIT');
      const res = await answer;
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('>Sure, which day?</Say>');
    } finally {
      await other.end();
    }

    const call = await request(t, 'GET', `/api/phone/calls/${sid}`, { token: admin });
    expect(call.body.transcript.map((e: { role: string; text: string | null }) => [e.role, e.text])).toEqual([
      ['assistant', 'Front desk, how can I help?'],
      ['assistant', 'One moment, please.'],
      ['caller', 'I need a cleaning'],
      ['assistant', 'Sure, which day?'],
    ]);
  });
});
