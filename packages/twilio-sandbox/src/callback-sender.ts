import { randomUUID } from 'node:crypto';
import twilio from 'twilio';
import type { Faults } from './faults';
import type { CallbackDelivery, SandboxState } from './sandbox-state';
import type { Scheduler } from './scheduler';

export interface Webhook {
  kind: string;
  resourceSid: string | null;
  url: string;
  method?: string;
  params: Record<string, string>;
  fallbackUrl?: string | null;
  fallbackMethod?: string;
}

export interface WebhookResult {
  ok: boolean;
  status: number | null;
  body: string;
  error: string | null;
  /** 11205 for a connection failure or timeout, 11200 for an unusable answer. */
  errorCode: number | null;
}

interface ConnectionOverrides {
  retries: number;
  policy: string[];
  totalMs: number;
}

const MAX_TOTAL_MS = 15_000;

/** `#rc=2&rp=5xx&tt=1000`: Twilio's connection overrides live in the fragment, which is never sent or signed. */
export function splitConnectionOverrides(raw: string): { url: string; overrides: ConnectionOverrides } {
  const at = raw.indexOf('#');
  const url = at < 0 ? raw : raw.slice(0, at);
  const fragment = new URLSearchParams(at < 0 ? '' : raw.slice(at + 1));
  const bounded = (key: string, fallback: number, min: number, max: number) => {
    const value = Number(fragment.get(key));
    return fragment.has(key) && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
  };
  return {
    url,
    overrides: {
      retries: bounded('rc', 1, 0, 5),
      policy: (fragment.get('rp') ?? 'ct').split(',').map((p) => p.trim()),
      totalMs: bounded('tt', MAX_TOTAL_MS, 100, MAX_TOTAL_MS),
    },
  };
}

type FailureKind = 'ct' | 'rt' | '4xx' | '5xx';

export interface CallbackSenderOptions {
  state: SandboxState;
  scheduler: Scheduler;
  faults: Faults;
  authToken: () => string;
  log: (message: string) => void;
}

export class CallbackSender {
  private nextId = 1;

  constructor(private readonly opts: CallbackSenderOptions) {}

  /** Fire-and-forget status callback, subject to the callback faults. */
  dispatch(webhook: Webhook): void {
    const { faults, scheduler } = this.opts;
    const token = randomUUID();
    if (faults.roll('callbackDrop')) {
      this.record(webhook, webhook.url, {}, 1, null, 'dropped');
      return;
    }
    let holdSeconds = 0;
    if (faults.roll('callbackDelay')) holdSeconds += faults.current.delaySeconds;
    if (faults.roll('callbackReorder')) holdSeconds += faults.fraction() * faults.current.reorderSeconds;
    const copies = faults.roll('callbackDuplicate') ? 2 : 1;
    const badSignature = faults.roll('callbackBadSignature');
    const send = () => {
      for (let i = 0; i < copies; i++) scheduler.track(this.deliver(webhook, token, badSignature));
    };
    if (holdSeconds > 0) scheduler.after(holdSeconds, send);
    else send();
  }

  /** A request whose answer the sandbox needs (TwiML); falls back to `fallbackUrl` like Twilio does. */
  async request(webhook: Webhook): Promise<WebhookResult> {
    const badSignature = this.opts.faults.roll('callbackBadSignature');
    const result = await this.deliver(webhook, randomUUID(), badSignature);
    if (result.ok || !webhook.fallbackUrl) return result;
    const { url } = splitConnectionOverrides(webhook.url);
    return this.deliver(
      {
        ...webhook,
        kind: `${webhook.kind}-fallback`,
        url: webhook.fallbackUrl,
        method: webhook.fallbackMethod,
        params: { ...webhook.params, ErrorCode: String(result.errorCode ?? 11200), ErrorUrl: url },
      },
      randomUUID(),
      badSignature,
    );
  }

  private async deliver(webhook: Webhook, token: string, badSignature: boolean): Promise<WebhookResult> {
    const { url: base, overrides } = splitConnectionOverrides(webhook.url);
    const method = (webhook.method ?? 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST';
    let target = base;
    if (method === 'GET') {
      const query = new URLSearchParams(webhook.params).toString();
      target = query ? `${base}${base.includes('?') ? '&' : '?'}${query}` : base;
    }
    const signed = method === 'GET' ? {} : webhook.params;
    const key = badSignature ? `${this.opts.authToken()}-tampered` : this.opts.authToken();
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
      Accept: '*/*',
      'User-Agent': 'TwilioProxy/1.1',
      'X-Twilio-Signature': twilio.getExpectedTwilioSignature(key, target, signed),
      'I-Twilio-Idempotency-Token': token,
    };
    const deadline = Date.now() + overrides.totalMs;
    let last: WebhookResult = { ok: false, status: null, body: '', error: 'not sent', errorCode: 11205 };
    for (let attempt = 1; attempt <= overrides.retries + 1; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      let failure: FailureKind | null = null;
      try {
        const response = await fetch(target, {
          method,
          headers,
          body: method === 'POST' ? new URLSearchParams(webhook.params).toString() : undefined,
          signal: AbortSignal.timeout(remaining),
          redirect: 'manual',
        });
        const body = await response.text();
        const ok = response.status >= 200 && response.status < 300;
        last = { ok, status: response.status, body, error: ok ? null : `HTTP ${response.status}`, errorCode: ok ? null : 11200 };
        if (!ok) failure = response.status >= 500 ? '5xx' : '4xx';
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        const message = timedOut ? `timeout after ${overrides.totalMs} ms` : describe(err);
        last = { ok: false, status: null, body: '', error: message, errorCode: 11205 };
        failure = timedOut ? 'rt' : 'ct';
      }
      this.record(webhook, target, headers, attempt, last.status, last.error, method === 'GET' ? {} : webhook.params);
      if (!failure || this.opts.scheduler.isStopped) break;
      if (!overrides.policy.includes(failure) && !overrides.policy.includes('all')) break;
    }
    if (!last.ok) this.opts.log(`webhook ${webhook.kind} to ${target} failed: ${last.error}`);
    return last;
  }

  private record(
    webhook: Webhook,
    url: string,
    headers: Record<string, string>,
    attempt: number,
    status: number | null,
    error: string | null,
    params: Record<string, string> = webhook.params,
  ): void {
    const delivery: CallbackDelivery = {
      id: this.nextId++,
      kind: webhook.kind,
      resourceSid: webhook.resourceSid,
      url,
      method: (webhook.method ?? 'POST').toUpperCase(),
      params: { ...params },
      headers: { ...headers },
      attempt,
      status,
      error,
      sentAt: new Date().toISOString(),
    };
    this.opts.state.callbacks.push(delivery);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}
