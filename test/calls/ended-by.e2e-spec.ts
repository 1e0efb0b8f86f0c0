import { AgentServer } from '../support/agent-server';
import { JsonBody, Reply, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/**
 * Who ended an answered call, as the end-of-call report infers it: the sandbox plays the other
 * party (its scripts hang up mid-conversation), an agent on a local port plays the assistant.
 */
let t: TestApp;
let admin: string;
let agent: AgentServer;
let assistant: JsonBody;
let ourNumber: string;

function api(method: string, path: string, body?: unknown): Promise<Reply> {
  return request(t, method, path, { token: admin, body });
}

/** The report once the call has ended. */
async function finalReport(sid: string): Promise<JsonBody> {
  return eventually(async () => {
    const res = await api('GET', `/api/phone/calls/${sid}/report`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.final ? res.body : null;
  }, 30_000);
}

async function placeAssistantCall(to: string): Promise<string> {
  const placed = await api('POST', '/api/phone/call', { to, assistant_id: assistant.id });
  expect(placed.status, JSON.stringify(placed.body)).toBe(201);
  return placed.body.sid as string;
}

/** The verbs the sandbox ran on the call, in order. */
const verbsOf = (sid: string) =>
  t.sandbox
    .calls()
    .find((c) => c.sid === sid)!
    .executed.map((v) => v.verb);

beforeAll(async () => {
  agent = await new AgentServer().start();
  t = await startTestApp({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true', CALL_REFRESH_AFTER_SECONDS: '0', RATE_LIMIT_CALLS: '1000' });
  admin = t.token(['phone:admin']);
  const created = await api('POST', '/api/phone/assistants', {
    name: 'Front desk',
    agent_url: agent.url,
    greeting: 'Front desk, how can I help?',
    first_message: 'Hi, this is the front desk calling.',
    limits: { max_turns: 6, silence_limit: 2 },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  assistant = created.body;
  agent.secret = assistant.secret;
  const bought = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550189' });
  expect(bought.status, JSON.stringify(bought.body)).toBe(201);
  ourNumber = bought.body.phone_number;
  expect((await api('PATCH', `/api/phone/numbers/${bought.body.sid}`, { assistant_id: assistant.id })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await agent?.stop();
});

beforeEach(() => {
  agent.reply = () => ({ say: 'Tell me more.' });
});

describe('ended_by of an answered call', () => {
  it('is callee when the person we called hangs up while the assistant listens', async () => {
    const callee = '+14155550131';
    t.sandbox.setScript(callee, [{ speech: 'Who is this?' }, { hangup: true }]);
    const sid = await placeAssistantCall(callee);
    const report = await finalReport(sid);
    expect(report).toMatchObject({ status: 'completed', outcome: 'completed', ended_by: 'callee' });
    expect(report.transcript.map((e: JsonBody) => e.role)).toEqual(['assistant', 'caller', 'assistant']);
    expect(verbsOf(sid)).not.toContain('Hangup');
  });

  it('is caller when someone who called an assistant number hangs up while it listens', async () => {
    const sid = await t.sandbox.deliverInboundCall({ from: '+14155550132', to: ourNumber, turns: [{ hangup: true }] });
    const report = await finalReport(sid);
    expect(report).toMatchObject({ direction: 'inbound', status: 'completed', ended_by: 'caller' });
  });

  it('is api when the assistant hangs up', async () => {
    const callee = '+14155550133';
    t.sandbox.setScript(callee, [{ speech: 'That is all, thanks' }, { speech: 'still here' }]);
    agent.reply = () => ({ say: 'Goodbye then.', hangup: true });
    const sid = await placeAssistantCall(callee);
    const report = await finalReport(sid);
    expect(report).toMatchObject({ status: 'completed', ended_by: 'api' });
    expect(verbsOf(sid)).toContain('Hangup');
  });

  it('is timeout when the silence limit ends the conversation', async () => {
    const callee = '+14155550134';
    t.sandbox.setScript(callee, [{ silence: true }, { silence: true }, { speech: 'hello?' }]);
    const sid = await placeAssistantCall(callee);
    const report = await finalReport(sid);
    expect(report).toMatchObject({ status: 'completed', ended_by: 'timeout' });
    expect(report.transcript.at(-1)).toMatchObject({ role: 'assistant', text: 'Thank you for calling. Goodbye.' });
  });

  it('is api when a placed call’s own message runs out, and the other party when its TwiML waits for input', async () => {
    const spoken = await api('POST', '/api/phone/call', { to: '+14155550135', message: 'Your order has shipped.' });
    expect(spoken.status, JSON.stringify(spoken.body)).toBe(201);
    expect(await finalReport(spoken.body.sid)).toMatchObject({ status: 'completed', ended_by: 'api' });

    const callee = '+14155550136';
    t.sandbox.setScript(callee, [{ hangup: true }]);
    const twiml =
      '<Response><Gather input="dtmf" numDigits="1" timeout="5"><Say>Press 1 to confirm.</Say></Gather><Say>Goodbye.</Say></Response>';
    const waiting = await api('POST', '/api/phone/call', { to: callee, twiml });
    expect(waiting.status, JSON.stringify(waiting.body)).toBe(201);
    expect(await finalReport(waiting.body.sid)).toMatchObject({ status: 'completed', ended_by: 'callee' });
  });

  it('is callee when the person hangs up after a transfer nobody took returned them to the assistant', async () => {
    const callee = '+14155550137';
    t.sandbox.setScript(callee, [{ speech: 'Can I talk to a person?' }, { hangup: true }]);
    // the transfer target's line is busy (the sandbox's 1111 rule)
    agent.reply = (body: JsonBody) =>
      body.turn === 1 ? { say: 'Let me put you through.', transfer: '+14155551111' } : { say: 'Tell me more.' };
    const sid = await placeAssistantCall(callee);
    const report = await finalReport(sid);
    expect(report).toMatchObject({ status: 'completed', ended_by: 'callee' });
    expect(verbsOf(sid)).toEqual(['Say', 'Gather', 'Say', 'Dial', 'Say', 'Gather']);
  });
});

describe('ended_by of a call answered by the plain greeting', () => {
  let greetingNumber: string;

  beforeAll(async () => {
    const bought = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550188' });
    expect(bought.status, JSON.stringify(bought.body)).toBe(201);
    greetingNumber = bought.body.phone_number;
  });

  it('is caller when the caller hangs up during the greeting’s voicemail recording', async () => {
    const sid = await t.sandbox.deliverInboundCall({ from: '+14155550138', to: greetingNumber, turns: [{ hangup: true }] });
    const report = await finalReport(sid);
    expect(report).toMatchObject({ direction: 'inbound', status: 'completed', ended_by: 'caller' });
    // the greeting, then the recording the caller hung up on (its action says Digits=hangup): nothing after it runs
    expect(verbsOf(sid)).toEqual(['Say', 'Record']);
  });

  it('is api when the caller ends the voicemail with a key and our Hangup follows', async () => {
    const sid = await t.sandbox.deliverInboundCall({ from: '+14155550144', to: greetingNumber, turns: [{ dtmf: '#' }] });
    const report = await finalReport(sid);
    expect(report).toMatchObject({ direction: 'inbound', status: 'completed', ended_by: 'api' });
    expect(verbsOf(sid)).toEqual(['Say', 'Record', 'Hangup']);
    expect(t.sandbox.calls().find((c) => c.sid === sid)!.executed[1]).toMatchObject({ input: { digits: '#' } });
  });

  it('is api when the voicemail ends by silence after the message, or at its maximum length, and our Hangup follows', async () => {
    const spoken = await t.sandbox.deliverInboundCall({
      from: '+14155550145',
      to: greetingNumber,
      turns: [{ speech: 'Hi, this is Dana, please call me back' }, { speech: 'still here' }],
    });
    expect(await finalReport(spoken)).toMatchObject({ direction: 'inbound', status: 'completed', ended_by: 'api' });
    expect(verbsOf(spoken)).toEqual(['Say', 'Record', 'Hangup']);
    // nobody scripted the caller: they talk until the 120 s limit ends the recording
    const long = await t.sandbox.deliverInboundCall({ from: '+14155550146', to: greetingNumber });
    expect(await finalReport(long)).toMatchObject({ direction: 'inbound', status: 'completed', ended_by: 'api' });
    expect(verbsOf(long)).toEqual(['Say', 'Record', 'Hangup']);
    const recorded = t.sandbox.calls().find((c) => c.sid === long)!.executed[1];
    expect(recorded).toMatchObject({ verb: 'Record', seconds: 120 });
    expect(recorded.input).toBeUndefined();
  });

  it('is api when the caller says nothing: Twilio drops the empty recording and the greeting’s TwiML ends the call', async () => {
    const sid = await t.sandbox.deliverInboundCall({
      from: '+14155550147',
      to: greetingNumber,
      turns: [{ silence: true }, { speech: 'hello?' }],
    });
    const report = await finalReport(sid);
    expect(report).toMatchObject({ direction: 'inbound', status: 'completed', ended_by: 'api', recordings: [] });
    // no Record action: the verb after the <Record> runs, our redirect, answered with our Hangup
    expect(verbsOf(sid)).toEqual(['Say', 'Record', 'Redirect', 'Hangup']);
  });
});

describe('ended_by of a call bridged by a transfer', () => {
  /** The assistant's agent transfers the call to `target` on the caller's first turn. */
  function transferOnFirstTurn(target: string): void {
    agent.reply = (body: JsonBody) => (body.turn === 1 ? { say: 'Let me put you through.', transfer: target } : { say: 'Tell me more.' });
  }

  it('is transfer_target when the person the transfer connected hangs up first', async () => {
    const callee = '+14155550139';
    const target = '+14155550141';
    t.sandbox.setScript(callee, [{ speech: 'Can I talk to a person?' }, { speech: 'still here' }]);
    t.sandbox.setScript(target, [], { talkSeconds: 3 });
    transferOnFirstTurn(target);
    const sid = await placeAssistantCall(callee);
    const report = await finalReport(sid);
    expect(report).toMatchObject({ status: 'completed', ended_by: 'transfer_target', transfer: { status: 'completed' } });
    expect(verbsOf(sid)).toEqual(['Say', 'Gather', 'Say', 'Dial', 'Hangup']);
  });

  it('is caller when the caller hangs up while the transfer bridges them', async () => {
    const target = '+14155550143';
    t.sandbox.setScript(target, [], { talkSeconds: 600 });
    transferOnFirstTurn(target);
    const sid = await t.sandbox.deliverInboundCall({
      from: '+14155550142',
      to: ourNumber,
      turns: [{ speech: 'Put me through to sales' }],
      bridgeSeconds: 2,
    });
    const report = await finalReport(sid);
    expect(report).toMatchObject({ direction: 'inbound', status: 'completed', ended_by: 'caller', transfer: { status: 'completed' } });
    // Twilio requests the Dial action of a call already over: nothing runs after the Dial
    expect(verbsOf(sid)).toEqual(['Say', 'Gather', 'Say', 'Dial']);
    const dialed = t.sandbox.calls().find((c) => c.parentCallSid === sid)!;
    expect(dialed).toMatchObject({ status: 'completed', duration: 2 });
  });

  it('is api when a transfer nobody took ends a call that has no assistant to return to', async () => {
    // the 5555 rule: the person we called stays on the line until someone hangs up; the call's own
    // TwiML waits for keys, which no longer runs once the transfer replaced it
    const twiml = '<Response><Gather input="dtmf" numDigits="1" timeout="5"><Say>Press 1 to confirm.</Say></Gather></Response>';
    const placed = await api('POST', '/api/phone/call', { to: '+14155505555', twiml });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const sid = placed.body.sid as string;
    await eventually(async () => (await api('GET', `/api/phone/calls/${sid}`)).body.status === 'in-progress');
    const transfer = await api('POST', `/api/phone/calls/${sid}/transfer`, { to: '+14155551111' });
    expect(transfer.status, JSON.stringify(transfer.body)).toBe(200);
    const report = await finalReport(sid);
    expect(report).toMatchObject({ status: 'completed', ended_by: 'api', transfer: { status: 'busy' } });
    expect(verbsOf(sid).slice(-2)).toEqual(['Dial', 'Hangup']);
  });
});
