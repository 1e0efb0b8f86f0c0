import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Webhook } from 'standardwebhooks';
import { guardedLookup, outboundUrlProblem } from '../common/outbound-url';

/**
 * Connections kept open between turns (a call's turns come seconds apart, to the same agent): no
 * TCP (and TLS) handshake per turn. As for event delivery, an idle connection is closed after
 * FREE_SOCKET_MS, under the 5 s a Node server keeps one.
 */
const FREE_SOCKET_MS = 4000;
// no cap on connections per agent: each live call has at most one turn in flight, and a turn
// queued behind others would spend its deadline waiting
const agentOptions = { keepAlive: true, timeout: FREE_SOCKET_MS };
const httpAgent = new HttpAgent(agentOptions);
const httpsAgent = new HttpsAgent(agentOptions);
/** How a kept connection the other end closed meanwhile fails. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

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
  const https = url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
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
    let outgoing: ClientRequest;
    // a connection whose answer was read to the end goes back to the pool; any other is closed
    const settle = (result: { ok: true; json: unknown } | { ok: false; error: string }, reusable = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!reusable) outgoing.destroy();
      resolve({ ...result, latencyMs: elapsed() });
    };
    const options = { method: 'POST', headers, lookup: guardedLookup(req.allowPrivate), agent: https ? httpsAgent : httpAgent };
    const post = (firstTry: boolean) => {
      let answered = false;
      outgoing = send(url, options, (response: IncomingMessage) => {
        answered = true;
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
          if (status < 200 || status >= 300) return settle({ ok: false, error: `agent answered ${status}` }, true);
          try {
            settle({ ok: true, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }, true);
          } catch {
            settle({ ok: false, error: 'agent answered something other than JSON' }, true);
          }
        });
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        // a kept connection the agent closed just as the turn went out: once more on a new one
        // (the same webhook-id, so an agent that did see it can tell)
        if (firstTry && !answered && !settled && outgoing.reusedSocket && STALE_CONNECTION.has(error.code ?? '')) return post(false);
        settle({ ok: false, error: error.message });
      });
      outgoing.end(req.body);
    };
    const timer = setTimeout(() => settle({ ok: false, error: `agent did not answer within ${req.timeoutMs} ms` }), req.timeoutMs);
    post(true);
  });
}
