import express, { Router } from 'express';
import type { FaultOptions, FaultSettings } from './faults';
import type { InboundCallInput, InboundSmsInput } from './inbound';
import type { CallbackDelivery, SandboxCall, SandboxMessage } from './sandbox-state';
import { ApiError } from './wire';

/** The sandbox's own API (no Twilio auth): what really happened, and the knobs. */
/** What the inspection routes read and drive; the sandbox itself provides it. */
export interface InspectableSandbox {
  readonly accountSid: string;
  readonly baseUrl: string;
  readonly pending: number;
  readonly apiRequestCount: number;
  calls(): Omit<SandboxCall, 'talkSeconds'>[];
  messages(): SandboxMessage[];
  callbacks(): CallbackDelivery[];
  reset(): void;
  setFaults(options: FaultOptions): FaultSettings;
  deliverInboundCall(input: InboundCallInput): Promise<string>;
  deliverInboundSms(input: InboundSmsInput): Promise<string>;
}

export function inspectionRoutes(sandbox: InspectableSandbox): Router {
  const router = Router();
  router.use(express.json());
  // express.json() hands over an object or array, or leaves the body undefined when none was sent.
  const fieldsOf = (body: unknown): Record<string, unknown> =>
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const str = (value: unknown, key: string): string => {
    if (typeof value !== 'string' || value === '') throw new ApiError(400, 20001, `${key} is required`);
    return value;
  };

  router.get('/health', (_req, res) => {
    res.json({
      status: 'ok',
      accountSid: sandbox.accountSid,
      baseUrl: sandbox.baseUrl,
      pending: sandbox.pending,
      apiRequests: sandbox.apiRequestCount,
    });
  });
  router.get('/calls', (_req, res) => {
    res.json({ calls: sandbox.calls() });
  });
  router.get('/messages', (_req, res) => {
    res.json({ messages: sandbox.messages() });
  });
  router.get('/callbacks', (_req, res) => {
    res.json({ callbacks: sandbox.callbacks() });
  });
  router.post('/reset', (_req, res) => {
    sandbox.reset();
    res.status(204).end();
  });
  router.post('/faults', (req, res) => {
    try {
      // setFaults checks every key and value, and throws on anything it does not know
      res.json({ faults: sandbox.setFaults(fieldsOf(req.body)) });
    } catch (err) {
      throw new ApiError(400, 20001, (err as Error).message);
    }
  });
  router.post('/inbound/call', async (req, res) => {
    const body = fieldsOf(req.body);
    const sid = await sandbox.deliverInboundCall({ from: str(body.from, 'from'), to: str(body.to, 'to') });
    res.status(201).json({ sid });
  });
  router.post('/inbound/sms', async (req, res) => {
    const body = fieldsOf(req.body);
    const mediaUrls = Array.isArray(body.media_urls) ? body.media_urls.map(String) : undefined;
    const sid = await sandbox.deliverInboundSms({
      from: str(body.from, 'from'),
      to: str(body.to, 'to'),
      body: typeof body.body === 'string' ? body.body : '',
      mediaUrls,
    });
    res.status(201).json({ sid });
  });
  return router;
}
