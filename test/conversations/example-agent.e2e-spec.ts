import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { JsonBody, Reply, request } from '../support/http';
import { TestApp, eventually, freePort, startTestApp } from '../support/test-app';

/**
 * Whole conversations through the sandbox, which plays the other party from scripts, with the
 * example agent of examples/appointment-agent run as its own process (it verifies every turn's
 * signature and answers 401 otherwise).
 */
let t: TestApp;
let admin: string;
let agentProcess: ChildProcess;
let assistant: JsonBody;
let ourNumber: string;
const TRANSFER_TO = '+14155550177';

function api(method: string, path: string, body?: unknown): Promise<Reply> {
  return request(t, method, path, { token: admin, body });
}

async function startExampleAgent(secret: string): Promise<string> {
  const port = await freePort();
  agentProcess = spawn(process.execPath, [join(__dirname, '../../examples/appointment-agent/agent.mjs')], {
    env: { ...process.env, PORT: String(port), ASSISTANT_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    agentProcess.once('error', reject);
    agentProcess.stdout!.once('data', () => resolve());
  });
  return `http://127.0.0.1:${port}/agent`;
}

async function endedCall(sid: string): Promise<JsonBody> {
  return eventually(
    async () => {
      const res = await api('GET', `/api/phone/calls/${sid}`);
      return res.body.status === 'completed' ? res.body : null;
    },
    30_000,
    100,
  );
}

const lines = (call: JsonBody) =>
  call.transcript.map((e: JsonBody) => `${e.role}: ${e.text ?? (e.digits ? `[${e.digits}]` : '[silence]')}`);

beforeAll(async () => {
  t = await startTestApp({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true', AGENT_TIMEOUT_MS: '500', SANDBOX_SPEED: '50' });
  admin = t.token(['phone:admin']);
  // the agent needs the secret, the assistant needs the agent's URL: create, start, then point it there
  const created = await api('POST', '/api/phone/assistants', {
    name: 'Bright Dental desk',
    agent_url: 'http://127.0.0.1:9/agent',
    first_message: 'Hi, this is Sam from Bright Dental. I can book your cleaning.',
    greeting: 'Bright Dental, this is Sam. How can I help?',
    transfer_number: TRANSFER_TO,
  });
  expect(created.status).toBe(201);
  const url = await startExampleAgent(created.body.secret);
  assistant = (await api('PATCH', `/api/phone/assistants/${created.body.id}`, { agent_url: url })).body;
  const bought = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550155' });
  ourNumber = bought.body.phone_number;
  expect((await api('PATCH', `/api/phone/numbers/${bought.body.sid}`, { assistant_id: assistant.id })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await t?.close();
  agentProcess?.kill();
});

describe('conversations with the example agent', () => {
  it('an outbound call: three turns book the appointment, the fourth asks for a person and is transferred', async () => {
    const callee = '+14155550123';
    t.sandbox.setScript(callee, [
      { speech: "I'd like to book a cleaning", confidence: 0.93 },
      { speech: 'Tuesday please', confidence: 0.9 },
      { speech: 'ten in the morning', confidence: 0.88 },
      { speech: 'Can I talk to a person?', confidence: 0.95 },
    ]);
    const placed = await api('POST', '/api/phone/call', { to: callee, assistant_id: assistant.id });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const call = await endedCall(placed.body.sid);
    expect(lines(call)).toEqual([
      'assistant: Hi, this is Sam from Bright Dental. I can book your cleaning.',
      "caller: I'd like to book a cleaning",
      'assistant: Sure. Which day would you like to come in? We are open Monday to Friday.',
      'caller: Tuesday please',
      'assistant: On tuesday we have 10 AM or 2 PM. Which one?',
      'caller: ten in the morning',
      "assistant: You're booked for tuesday at 10 AM. Anything else?",
      'caller: Can I talk to a person?',
      'assistant: Connecting you to the front desk.',
    ]);
    expect(call.transcript[1].confidence).toBe(0.93);
    // the callee heard every answer and was connected to the front desk
    const run = t.sandbox.calls().find((c) => c.sid === placed.body.sid)!;
    expect(run.executed.filter((v) => v.verb === 'Dial').map((v) => v.text)).toEqual([TRANSFER_TO]);
    expect(t.sandbox.calls().some((c) => c.to === TRANSFER_TO && c.parentCallSid === placed.body.sid)).toBe(true);
    const report = await api('GET', `/api/phone/calls/${placed.body.sid}/report`);
    expect(report.body.transcript).toHaveLength(9);
  });

  it('an inbound call to the assistant number is greeted and booked', async () => {
    const caller = '+14155550142';
    const sid = await t.sandbox.deliverInboundCall({
      from: caller,
      to: ourNumber,
      turns: [{ speech: 'Do you have Friday afternoon?' }, { speech: 'no that is all' }],
    });
    const call = await endedCall(sid);
    expect(call).toMatchObject({ direction: 'inbound', assistant_id: assistant.id });
    expect(lines(call)).toEqual([
      'assistant: Bright Dental, this is Sam. How can I help?',
      'caller: Do you have Friday afternoon?',
      "assistant: You're booked for friday at 2 PM. Anything else?",
      'caller: no that is all',
      'assistant: See you then. Goodbye!',
    ]);
  });

  it('an SMS conversation: each text is answered by SMS from the assistant number', async () => {
    const texter = '+14155550168';
    await t.sandbox.deliverInboundSms({ from: texter, to: ourNumber, body: 'Can I come in Monday?' });
    await eventually(async () => t.sandbox.messages().some((m) => m.to === texter));
    await t.sandbox.deliverInboundSms({ from: texter, to: ourNumber, body: '2 please' });
    const replies = await eventually(async () => {
      const sent = t.sandbox.messages().filter((m) => m.to === texter && m.from === ourNumber);
      return sent.length === 2 ? sent : null;
    });
    expect(replies.map((m) => m.body).sort()).toEqual([
      'On monday we have 10 AM or 2 PM. Which one?',
      "You're booked for monday at 2 PM. Anything else?",
    ]);
  });

  it('an agent that times out: a spoken fallback, one more try, then a polite goodbye', async () => {
    let hung = 0;
    const silent: Server = createServer(() => hung++); // takes every turn, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const slow = await api('POST', '/api/phone/assistants', {
        name: 'Stuck agent',
        agent_url: `http://127.0.0.1:${(silent.address() as { port: number }).port}/agent`,
        first_message: 'Hello from Bright Dental.',
      });
      const callee = '+14155550124';
      t.sandbox.setScript(callee, [{ speech: 'Hello?' }, { speech: 'Anyone there?' }, { speech: 'Hello??' }]);
      const placed = await api('POST', '/api/phone/call', { to: callee, assistant_id: slow.body.id });
      const call = await endedCall(placed.body.sid);
      expect(lines(call)).toEqual([
        'assistant: Hello from Bright Dental.',
        'caller: Hello?',
        "assistant: Sorry, I'm having a little trouble. Could you say that again?",
        'caller: Anyone there?',
        "assistant: I'm sorry, I can't help right now. Please call again later. Goodbye.",
      ]);
      expect(hung).toBe(2);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
