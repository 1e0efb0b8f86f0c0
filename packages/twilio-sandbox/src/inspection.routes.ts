import express, { Router } from 'express';
import type { FaultOptions, FaultSettings } from './faults';
import type { InboundCallInput, InboundSmsInput } from './inbound';
import {
  parseBridgeSeconds,
  parseE164,
  parseScript,
  parseTalkSeconds,
  parseTurns,
  ScriptError,
  scriptView,
  type PartyScript,
} from './party-scripts';
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
  setScript(number: string, turns: unknown[], options?: { talkSeconds?: number; bridgeSeconds?: number }): PartyScript;
  scripts(): PartyScript[];
  deleteScript(number: string): boolean;
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
  /** A script error is the client's: 400 with the field in the message. */
  const checked = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ScriptError) throw new ApiError(400, 20001, err.message);
      throw err;
    }
  };
  router.get('/scripts', (_req, res) => {
    res.json({ scripts: sandbox.scripts().map(scriptView) });
  });
  router.post('/scripts', (req, res) => {
    const script = checked(() => parseScript(req.body));
    res
      .status(201)
      .json(
        scriptView(
          sandbox.setScript(script.number, script.turns, { talkSeconds: script.talkSeconds, bridgeSeconds: script.bridgeSeconds }),
        ),
      );
  });
  router.delete('/scripts/:number', (req, res) => {
    const number = checked(() => parseE164(String(req.params.number), 'number'));
    if (!sandbox.deleteScript(number)) throw new ApiError(404, 20404, `No script for ${number}`);
    res.status(204).end();
  });
  router.post('/inbound/call', async (req, res) => {
    const body = fieldsOf(req.body);
    const input: InboundCallInput = { from: str(body.from, 'from'), to: str(body.to, 'to') };
    if (body.turns !== undefined) {
      input.turns = checked(() => parseTurns(body.turns));
      if (body.talk_seconds !== undefined) input.talkSeconds = checked(() => parseTalkSeconds(body.talk_seconds));
      if (body.bridge_seconds !== undefined) input.bridgeSeconds = checked(() => parseBridgeSeconds(body.bridge_seconds));
    }
    const sid = await sandbox.deliverInboundCall(input);
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
