import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, param, sdkFor, startSandbox, WebhookReceiver } from './sandbox-helpers';

/** The first python3 that can import the official `twilio` library (Debian's python3-twilio), if any. */
function pythonWithTwilio(): string | null {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(candidate, ['-c', 'import twilio'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return null;
}

/**
 * Runs a script with the official Python library, its HTTP client pointed at the sandbox (path and
 * query kept), and returns what the script printed as JSON.
 */
async function runPython(python: string, sandbox: TwilioSandbox, body: string): Promise<unknown> {
  const script = `
import datetime, json, os, sys
from twilio.rest import Client
from twilio.http.http_client import TwilioHttpClient

class SandboxHttpClient(TwilioHttpClient):
    def request(self, method, url, *args, **kwargs):
        return super().request(method, url.replace('https://api.twilio.com', os.environ['SANDBOX_URL']), *args, **kwargs)

client = Client(os.environ['ACCOUNT_SID'], os.environ['AUTH_TOKEN'], http_client=SandboxHttpClient())
${body}
`;
  // Asynchronously: the sandbox answers from this process's event loop.
  const { stdout } = await promisify(execFile)(python, ['-c', script], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, SANDBOX_URL: sandbox.baseUrl, ACCOUNT_SID: sandbox.accountSid, AUTH_TOKEN: sandbox.authToken },
  });
  return JSON.parse(stdout);
}

const python = pythonWithTwilio();
const skipReason = python ? '' : ' (skipped: python3-twilio is not installed; apt-get install python3-twilio)';

describe('the official Python library against the sandbox', () => {
  let sandbox: TwilioSandbox;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  it.skipIf(!python)(`lists calls and messages by a date (sent as a midnight date-time)${skipReason}`, async () => {
    const { client } = sdkFor(sandbox);
    const call = await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response><Hangup/></Response>' });
    const message = await client.messages.create({ to: CUSTOMER, from: OWNED, body: 'hello' });
    await sandbox.settle();
    const day = (await client.calls(call.sid).fetch()).startTime.toISOString().slice(0, 10);
    const sentDay = (await client.messages(message.sid).fetch()).dateSent.toISOString().slice(0, 10);
    const seen = await runPython(
      python!,
      sandbox,
      `
day = datetime.date.fromisoformat('${day}')
sent_day = datetime.date.fromisoformat('${sentDay}')
print(json.dumps({
    'sameDay': [c.sid for c in client.calls.list(start_time=day)],
    'nextDay': [c.sid for c in client.calls.list(start_time=day + datetime.timedelta(days=1))],
    'onOrAfter': [c.sid for c in client.calls.list(start_time_after=day)],
    'messages': [m.sid for m in client.messages.list(date_sent=sent_day)],
    'status': client.calls('${call.sid}').fetch().status,
}))
`,
    );
    expect(seen).toEqual({ sameDay: [call.sid], nextDay: [], onOrAfter: [call.sid], messages: [message.sid], status: 'completed' });
  });

  it.skipIf(!python)(
    `holds a conversation with TwiML from the Python builders, async AMD, and a Dial leg it lists by parent${skipReason}`,
    async () => {
      const receiver = await WebhookReceiver.start();
      try {
        sandbox.setScript(CUSTOMER, [{ speech: 'Put me through to sales', confidence: 0.87 }]);
        sandbox.setScript('+14155550123', [], { talkSeconds: 12 });
        receiver.on('/turn', { body: '<Response><Dial action="/dialed">+14155550123</Dial></Response>' });
        receiver.on('/dialed', { body: '<Response><Hangup/></Response>' });
        const placed = (await runPython(
          python!,
          sandbox,
          `
from twilio.twiml.voice_response import VoiceResponse, Gather
response = VoiceResponse()
gather = Gather(input='speech dtmf', action='${receiver.url('/turn')}', speech_timeout='auto', action_on_empty_result=True, hints='sales, support')
gather.say('How can I help?')
response.append(gather)
call = client.calls.create(to='${CUSTOMER}', from_='${OWNED}', twiml=str(response), machine_detection='DetectMessageEnd',
                           async_amd='true', async_amd_status_callback='${receiver.url('/amd')}')
print(json.dumps({'sid': call.sid}))
`,
        )) as { sid: string };
        await sandbox.settle();
        const [turn] = receiver.to('/turn');
        expect(receiver.isTwilioSigned(turn, sandbox.authToken)).toBe(true);
        expect(turn.params).toMatchObject({ CallSid: placed.sid, SpeechResult: 'Put me through to sales', Confidence: '0.87' });
        expect(param(receiver.to('/amd')[0], 'AnsweredBy')).toBe('human');
        expect(receiver.to('/dialed')[0].params).toMatchObject({ DialCallStatus: 'completed', DialCallDuration: '12' });
        const legs = (await runPython(
          python!,
          sandbox,
          `print(json.dumps([[c.parent_call_sid, c.direction, c.status, c.duration] for c in client.calls.list(parent_call_sid='${placed.sid}')]))`,
        )) as unknown[];
        expect(legs).toEqual([[placed.sid, 'outbound-dial', 'completed', '12']]);
      } finally {
        await receiver.stop();
      }
    },
  );
});
