import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Webhook } from 'standardwebhooks';
import { guardedLookup, outboundUrlProblem } from '../common/outbound-url';

/**
 * Connections kept open between deliveries to the same endpoint: no TCP (and TLS) handshake per
 * event. An idle connection is closed after FREE_SOCKET_MS, under the 5 s a Node server keeps one
 * (a connection the endpoint closed meanwhile only costs a failed attempt, retried as any other).
 */
const FREE_SOCKET_MS = 4000;
const agentOptions = { keepAlive: true, maxSockets: 64, timeout: FREE_SOCKET_MS };
const httpAgent = new HttpAgent(agentOptions);
const httpsAgent = new HttpsAgent(agentOptions);

/** How much of an endpoint's answer is kept with the attempt. */
export const RESPONSE_EXCERPT_BYTES = 500;

export interface SendResult {
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
}

export interface SignedRequest {
  url: string;
  /** The event id: webhook-id, the same on every retry and replay. */
  messageId: string;
  body: string;
  /** Every secret that signs (the current one, and the previous one during a rotation's overlap). */
  secrets: string[];
  timeoutMs: number;
  allowPrivate: boolean;
}

/** The Standard Webhooks headers for `body`, one signature per secret (space separated). */
export function signatureHeaders(messageId: string, body: string, secrets: string[], at = new Date()): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, at, body)).join(' '),
  };
}

/**
 * POSTs one signed event; never throws: a refused address, a timeout or a network error is an
 * attempt without a status code.
 */
export async function sendSigned(req: SignedRequest): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const problem = outboundUrlProblem(req.url, req.allowPrivate);
  if (problem) return { statusCode: null, latencyMs: 0, responseExcerpt: null, error: `url ${problem}` };
  const url = new URL(req.url);
  const https = url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'samsaek-phone-events/1',
    'content-length': String(Buffer.byteLength(req.body)),
    ...signatureHeaders(req.messageId, req.body, req.secrets),
  };
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const settle = (result: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, latencyMs: elapsed() });
    };
    const options = { method: 'POST', headers, lookup: guardedLookup(req.allowPrivate), agent: https ? httpsAgent : httpAgent };
    const outgoing = send(url, options, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      response.on('data', (chunk: Buffer) => {
        if (kept < RESPONSE_EXCERPT_BYTES) {
          chunks.push(chunk.subarray(0, RESPONSE_EXCERPT_BYTES - kept));
          kept += Math.min(chunk.length, RESPONSE_EXCERPT_BYTES - kept);
        }
      });
      const done = (error: string | null) => {
        const statusCode = response.statusCode ?? null;
        const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
        settle({
          statusCode,
          responseExcerpt: chunks.length ? Buffer.concat(chunks).toString('utf8') : null,
          error: error ?? (ok ? null : `endpoint answered ${statusCode}`),
        });
      };
      response.on('end', () => done(null));
      response.on('error', (error) => done(error.message));
    });
    const timer = setTimeout(() => {
      outgoing.destroy();
      settle({ statusCode: null, responseExcerpt: null, error: `no answer within ${req.timeoutMs} ms` });
    }, req.timeoutMs);
    outgoing.on('error', (error) => settle({ statusCode: null, responseExcerpt: null, error: error.message }));
    outgoing.end(req.body);
  });
}
