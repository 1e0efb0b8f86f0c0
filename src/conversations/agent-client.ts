import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Webhook } from 'standardwebhooks';
import { guardedLookup, outboundUrlProblem } from '../common/outbound-url';

/** More than any sensible reply; a bigger answer is refused rather than buffered. */
const MAX_REPLY_BYTES = 64 * 1024;

export interface AgentRequest {
  url: string;
  /** webhook-id: the same for every attempt at one turn, so an agent can deduplicate. */
  messageId: string;
  body: string;
  /** The assistant's signing secrets (two during a rotation's overlap). */
  secrets: string[];
  timeoutMs: number;
  allowPrivate: boolean;
}

export type AgentResult = { ok: true; json: unknown; latencyMs: number } | { ok: false; error: string; latencyMs: number };

/**
 * POSTs one turn to an agent, signed the Standard Webhooks way, and reads its JSON answer within
 * the deadline. Never throws: every failure (refused address, timeout, status, bad JSON) is a result.
 */
export function askAgent(req: AgentRequest): Promise<AgentResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const problem = outboundUrlProblem(req.url, req.allowPrivate);
  if (problem) return Promise.resolve({ ok: false, error: `agent_url ${problem}`, latencyMs: 0 });
  const url = new URL(req.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const at = new Date();
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json',
    'user-agent': 'samsaek-phone-conversations/1',
    'content-length': String(Buffer.byteLength(req.body)),
    'webhook-id': req.messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': req.secrets.map((secret) => new Webhook(secret).sign(req.messageId, at, req.body)).join(' '),
  };
  return new Promise<AgentResult>((resolve) => {
    let settled = false;
    const settle = (result: { ok: true; json: unknown } | { ok: false; error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing.destroy();
      resolve({ ...result, latencyMs: elapsed() });
    };
    const outgoing = send(url, { method: 'POST', headers, lookup: guardedLookup(req.allowPrivate) }, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) return settle({ ok: false, error: `agent answered more than ${MAX_REPLY_BYTES} bytes` });
        chunks.push(chunk);
      });
      response.on('error', (error) => settle({ ok: false, error: error.message }));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) return settle({ ok: false, error: `agent answered ${status}` });
        try {
          settle({ ok: true, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        } catch {
          settle({ ok: false, error: 'agent answered something other than JSON' });
        }
      });
    });
    const timer = setTimeout(() => settle({ ok: false, error: `agent did not answer within ${req.timeoutMs} ms` }), req.timeoutMs);
    outgoing.on('error', (error) => settle({ ok: false, error: error.message }));
    outgoing.end(req.body);
  });
}
