import { AgentServer } from '../support/agent-server';
import { fieldsOf, request, type JsonBody } from '../support/http';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { QUICK_CAMPAIGN_ENGINE } from '../support/campaign-engine';

const ALWAYS = { start: '00:00', end: '24:00' };

describe('a campaign of assistant calls', () => {
  let t: TestApp;
  let agent: AgentServer;
  let assistant: JsonBody;
  let token: string;

  beforeAll(async () => {
    agent = await new AgentServer().start();
    t = await startTestApp({
      SANDBOX_SPEED: '20',
      ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
      ...QUICK_CAMPAIGN_ENGINE,
      CAMPAIGN_ACCOUNT_CALLS_PER_SECOND: '5',
    });
    token = t.token(['phone:call', 'phone:view']);
    const created = await request(t, 'POST', '/api/phone/assistants', {
      token: t.token(['phone:admin']),
      body: {
        name: 'Reminders',
        agent_url: agent.url,
        first_message: 'Hi {{first_name}}, this is Bright Dental about your appointment at {{ time }}.',
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    assistant = created.body;
    agent.secret = assistant.secret;
    agent.reply = (body: JsonBody) => ({ say: `See you at ${body.metadata.time}.`, hangup: true });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await agent?.stop();
  });

  it(
    'places each call with the assistant; the agent gets the recipient variables and metadata with its turns',
    { timeout: 60_000 },
    async () => {
      const people = [
        { to: '+14155557401', variables: { first_name: 'Ann', time: '10:30' }, metadata: { crm_id: 'c-1' } },
        { to: '+14155557402', variables: { first_name: 'Bo', time: 11 } },
        // no first_name: the first message leaves it out
        { to: '+14155557403', variables: { time: '9:15' } },
      ];
      const firstMessages = [
        'Hi Ann, this is Bright Dental about your appointment at 10:30.',
        'Hi Bo, this is Bright Dental about your appointment at 11.',
        'Hi, this is Bright Dental about your appointment at 9:15.',
      ];
      for (const p of people) t.sandbox.setScript(p.to, [{ speech: 'Yes, I will be there', confidence: 0.9 }]);
      const { status, body } = await request(t, 'POST', '/api/phone/campaigns', {
        token,
        body: { name: 'Assistant run', assistant_id: assistant.id, calling_window: ALWAYS, pacing: { per_second: 5 }, recipients: people },
      });
      expect(status, JSON.stringify(body)).toBe(201);
      expect(body).toMatchObject({ channel: 'call', assistant_id: assistant.id, message: null });
      const done: JsonBody = await eventually(
        async () => {
          const reply = await request(t, 'GET', `/api/phone/campaigns/${body.id}`, { token });
          return reply.body.state === 'completed' ? reply.body : null;
        },
        50_000,
        200,
      );
      expect(done.counts.completed).toBe(3);
      const rows = (await request(t, 'GET', `/api/phone/campaigns/${body.id}/recipients`, { token })).body.recipients;
      for (const [i, p] of people.entries()) {
        const call = (await request(t, 'GET', `/api/phone/calls/${rows[i].attempts[0].sid}`, { token })).body;
        expect(call).toMatchObject({ to: p.to, assistant_id: assistant.id });
        expect(call.metadata).toEqual({
          ...Object.fromEntries(Object.entries(p.variables).map(([k, v]) => [k, String(v)])),
          ...(p.metadata ?? {}),
          campaign_id: body.id,
          campaign_attempt_id: expect.any(String),
        });
        const turn = agent.turns.find((x) => x.body.call.sid === call.sid);
        expect(turn?.verified).toBe(true);
        expect(turn?.body.metadata).toMatchObject({ ...p.variables, time: String(p.variables.time) });
        // the first message is filled from the call's metadata, where the recipient's variables are
        expect(turn?.body.transcript[0]).toEqual({ role: 'assistant', text: firstMessages[i] });
      }
    },
  );

  it('answers 404 naming assistant_id for an unknown assistant, and skips a row whose variables cannot be metadata', async () => {
    const unknown = await request(t, 'POST', '/api/phone/campaigns', {
      token,
      body: { name: 'x', assistant_id: '00000000-0000-4000-8000-000000000000', recipients: [{ to: '+14155557411' }] },
    });
    expect([unknown.status, unknown.body.code, fieldsOf(unknown.body)]).toEqual([404, 'not_found', ['assistant_id']]);
    const malformed = await request(t, 'POST', '/api/phone/campaigns', {
      token,
      body: { name: 'x', assistant_id: 'not-a-uuid', recipients: [{ to: '+14155557411' }] },
    });
    expect([malformed.status, fieldsOf(malformed.body)]).toEqual([400, ['assistant_id']]);
    const dry = await request(t, 'POST', '/api/phone/campaigns?dry_run=true', {
      token,
      body: {
        name: 'x',
        assistant_id: assistant.id,
        recipients: [
          { to: '+14155557412', variables: { crm_id: 'a' }, metadata: { crm_id: 'b' } },
          { to: '+14155557413', variables: { note: 'x'.repeat(501) } },
          { to: '+14155557414', variables: { campaign_id: 'mine' } },
          { to: '+14155557415', variables: { first_name: 'Cy' } },
        ],
      },
    });
    expect(dry.status).toBe(200);
    expect(dry.body.import_report).toMatchObject({ accepted: 1, skipped_by_reason: { invalid_variables: 3 } });
  });
});
