import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, sdkFor, startSandbox } from './sandbox-helpers';

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
});
