import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { CallLifecycle } from './call-lifecycle';
import { callsRoutes } from './calls.routes';
import { CallbackSender } from './callback-sender';
import { Faults, type FaultOptions, type FaultSettings } from './faults';
import { deliverInboundCall, deliverInboundSms, type InboundCallInput, type InboundSmsInput } from './inbound';
import { inspectionRoutes } from './inspection.routes';
import { MessageLifecycle } from './message-lifecycle';
import { messagesRoutes } from './messages.routes';
import { numbersRoutes, provisionNumber } from './numbers.routes';
import {
  parseBridgeSeconds,
  parseScript,
  parseTalkSeconds,
  parseTurns,
  type PartyScript,
  type PartyTurn,
  type PartyTurnInput,
} from './party-scripts';
import { PhoneInventory } from './phone-inventory';
import { accountRoutes } from './account.routes';
import { recordingMediaRoutes, recordingRoutes } from './recordings.routes';
import { ResourceViews } from './resources';
import type { SandboxContext } from './sandbox-context';
import { DEFAULT_PRICING, SandboxState, type CallbackDelivery, type Pricing, type SandboxCall, type SandboxMessage } from './sandbox-state';
import { Scheduler, delay } from './scheduler';
import { StateFile } from './state-file';
import { usageRoutes } from './usage.routes';
import { ApiError, parseAmount, sendError } from './wire';

export interface TwilioSandboxOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  accountSid?: string;
  authToken?: string;
  /** Virtual seconds per real second. */
  speed?: number;
  /** Outbound calls dialed per virtual second. */
  cps?: number;
  seed?: number;
  /** USD, e.g. '20.00'. */
  balance?: string;
  /** Numbers the account owns from the start (voice + SMS). */
  ownedNumbers?: string[];
  /** How the sandbox names itself in RecordingUrl and the like; defaults to its base URL. */
  publicBaseUrl?: string;
  /** USD amounts, e.g. { voicePerMinute: '0.0085' }. */
  pricing?: Partial<Record<keyof Pricing, string>>;
  log?: (message: string) => void;
  /**
   * A JSON file that keeps the account's numbers, calls, messages, recordings, usage and balance
   * across restarts (read at start, written as they change and at stop). Without it the sandbox
   * starts empty every time.
   */
  stateFile?: string;
}

export type SandboxCallView = Omit<SandboxCall, 'talkSeconds'>;
export type {
  CallbackDelivery,
  FaultOptions,
  FaultSettings,
  InboundCallInput,
  InboundSmsInput,
  PartyScript,
  PartyTurn,
  PartyTurnInput,
  SandboxMessage,
};

/** The credentials and number a sandbox started without options uses; the standalone bin prints them. */
export const DEFAULT_SANDBOX_ACCOUNT_SID = 'AC5a4db0c5a4db0c5a4db0c5a4db0c5a4d';
export const DEFAULT_SANDBOX_AUTH_TOKEN = 'sandbox-auth-token-0000000000000000';
export const DEFAULT_SANDBOX_NUMBER = '+14155550199';

/** A Twilio-compatible 2010-04-01 API on a local HTTP server, driven by the real twilio SDK. */
export class TwilioSandbox {
  readonly accountSid: string;
  readonly authToken: string;
  private readonly ctx: SandboxContext;
  private readonly ownedNumbers: string[];
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<NodeJS.Timeout>();
  private readonly startedAt = new Date();
  private server: Server | null = null;
  private apiRequests = 0;
  private base = '';
  private readonly publicBase: string | undefined;
  private readonly stateFile: StateFile | null;
  private saveTimer: NodeJS.Timeout | null = null;

  private constructor(private readonly options: TwilioSandboxOptions) {
    this.accountSid = options.accountSid ?? DEFAULT_SANDBOX_ACCOUNT_SID;
    this.authToken = options.authToken ?? DEFAULT_SANDBOX_AUTH_TOKEN;
    if (!/^AC[0-9a-fA-F]{32}$/.test(this.accountSid)) throw new Error('accountSid must match ^AC[0-9a-fA-F]{32}$');
    this.publicBase = options.publicBaseUrl?.replace(/\/$/, '');
    this.ownedNumbers = options.ownedNumbers ?? [DEFAULT_SANDBOX_NUMBER];
    const seed = options.seed ?? 1;
    const log = options.log ?? (() => undefined);
    const scheduler = new Scheduler(options.speed ?? 1, new Date(), (error) =>
      log(`sandbox task failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
    );
    const state = new SandboxState(parseAmount(options.balance ?? '20.00'), scheduler.now());
    const faults = new Faults(seed);
    const pricing: Pricing = { ...DEFAULT_PRICING };
    for (const [key, value] of Object.entries(options.pricing ?? {})) {
      if (value !== undefined) pricing[key as keyof Pricing] = parseAmount(value);
    }
    const sender = new CallbackSender({ state, scheduler, faults, authToken: () => this.authToken, log });
    const publicBaseUrl = () => this.publicBase ?? this.base;
    const shared = { state, scheduler, sender, accountSid: this.accountSid, pricing };
    this.ctx = {
      ...shared,
      faults,
      publicBaseUrl,
      inventory: new PhoneInventory(seed),
      views: new ResourceViews(this.accountSid, publicBaseUrl),
      calls: new CallLifecycle({ ...shared, publicBaseUrl }, options.cps ?? 1),
      messages: new MessageLifecycle(shared),
    };
    this.stateFile = options.stateFile ? new StateFile(options.stateFile) : null;
    if (this.stateFile?.load(state)) {
      for (const call of state.calls.values()) this.ctx.calls.endInterrupted(call);
      for (const message of state.messages.values()) this.ctx.messages.deliverInterrupted(message);
    }
    this.provisionOwned();
    this.save();
  }

  static async start(options: TwilioSandboxOptions = {}): Promise<TwilioSandbox> {
    const sandbox = new TwilioSandbox(options);
    await sandbox.listen();
    return sandbox;
  }

  get baseUrl(): string {
    return this.base;
  }

  /** Requests that reached the 2010 API (authenticated), retries included. */
  get apiRequestCount(): number {
    return this.apiRequests;
  }

  get pending(): number {
    return this.ctx.scheduler.pending;
  }

  /** The sandbox's virtual clock. */
  now(): Date {
    return this.ctx.scheduler.now();
  }

  setFaults(options: FaultOptions): FaultSettings {
    return this.ctx.faults.set(options);
  }

  /** Back to the state right after start: no calls, messages, callbacks or faults; the starting balance and numbers. */
  reset(): void {
    this.ctx.scheduler.cancelAll();
    this.ctx.calls.reset();
    this.ctx.messages.reset();
    this.ctx.state.clear();
    this.ctx.faults.set({});
    this.provisionOwned();
    this.save();
  }

  /**
   * What the person at `number` does whenever a <Gather> listens on a call with them (outbound to the
   * number, inbound from it, or a <Dial> leg to it): each <Gather> consumes the next turn, and a script
   * that runs out hangs up. Replaces the number's previous script. Throws on an invalid script.
   */
  setScript(number: string, turns: unknown[], options: { talkSeconds?: number; bridgeSeconds?: number } = {}): PartyScript {
    const script = parseScript({
      number,
      turns,
      ...(options.talkSeconds !== undefined ? { talk_seconds: options.talkSeconds } : {}),
      ...(options.bridgeSeconds !== undefined ? { bridge_seconds: options.bridgeSeconds } : {}),
    });
    this.ctx.state.scripts.set(script.number, script);
    return structuredClone(script);
  }

  scripts(): PartyScript[] {
    return [...this.ctx.state.scripts.values()].map((s) => structuredClone(s));
  }

  /** Removes the number's script; false when it had none. */
  deleteScript(number: string): boolean {
    return this.ctx.state.scripts.delete(number);
  }

  deliverInboundCall(input: Omit<InboundCallInput, 'turns'> & { turns?: PartyTurnInput[] }): Promise<string> {
    return new Promise((resolve) => {
      const turns = input.turns === undefined ? undefined : parseTurns(input.turns);
      const talkSeconds = input.talkSeconds === undefined ? undefined : parseTalkSeconds(input.talkSeconds);
      const bridgeSeconds = parseBridgeSeconds(input.bridgeSeconds, 'bridgeSeconds');
      resolve(deliverInboundCall(this.ctx, { ...input, turns, talkSeconds, bridgeSeconds }));
    });
  }

  deliverInboundSms(input: InboundSmsInput): Promise<string> {
    return new Promise((resolve) => resolve(deliverInboundSms(this.ctx, input)));
  }

  calls(): SandboxCallView[] {
    return [...this.ctx.state.calls.values()].map(({ talkSeconds: _talk, ...call }) => structuredClone(call));
  }

  messages(): SandboxMessage[] {
    return [...this.ctx.state.messages.values()].map((m) => structuredClone(m));
  }

  callbacks(): CallbackDelivery[] {
    return this.ctx.state.callbacks.map((c) => structuredClone(c));
  }

  settle(timeoutMs?: number): Promise<void> {
    return this.ctx.scheduler.settle(timeoutMs);
  }

  async stop(): Promise<void> {
    this.ctx.scheduler.stop();
    if (this.saveTimer) clearInterval(this.saveTimer);
    this.saveTimer = null;
    this.save();
    for (const timer of this.held) clearTimeout(timer);
    this.held.clear();
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private provisionOwned(): void {
    for (const phoneNumber of this.ownedNumbers) {
      if (!this.ctx.state.numberByPhone(phoneNumber)) provisionNumber(this.ctx, phoneNumber);
    }
  }

  /** Writes the state file (when there is one and the state changed); a failure is logged, never thrown at a request. */
  private save(): void {
    try {
      this.stateFile?.save(this.ctx.state);
    } catch (error) {
      this.options.log?.(`sandbox state not saved: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async listen(): Promise<void> {
    const server = createServer(this.app());
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => resolve());
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    // lifecycle steps (a call ending, a message delivered) change the state between requests
    if (this.stateFile) {
      this.saveTimer = setInterval(() => this.save(), 1000);
      this.saveTimer.unref();
    }
  }

  private app(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use('/sandbox', inspectionRoutes(this));
    const account = '/2010-04-01/Accounts/:accountSid';
    app.use(
      account,
      recordingMediaRoutes(this.ctx, (_req, res, next) => this.injectFaults(res, next, false)),
    );
    const api = express.Router({ mergeParams: true });
    api.use(express.text({ type: () => true, limit: '2mb' }));
    api.use((req, _res, next) => this.authenticate(req, next));
    api.use((_req, res, next) => this.injectFaults(res, next));
    if (this.stateFile) {
      api.use((req, res, next) => {
        if (req.method !== 'GET') res.once('finish', () => this.save());
        next();
      });
    }
    api.use(callsRoutes(this.ctx));
    api.use(messagesRoutes(this.ctx));
    api.use(numbersRoutes(this.ctx));
    api.use(usageRoutes(this.ctx));
    api.use(recordingRoutes(this.ctx));
    // The account resource itself is `Accounts/{sid}.json`, one path segment with its extension.
    const accountResource = express.Router({ mergeParams: true });
    accountResource.use((req, _res, next) => this.authenticate(req, next));
    accountResource.use((_req, res, next) => this.injectFaults(res, next));
    accountResource.use(accountRoutes(this.ctx, this.startedAt));
    app.use('/2010-04-01/Accounts/:accountSid.json', accountResource);
    app.use(account, api);
    app.use((req: Request, res: Response) => {
      sendError(res, 404, 20404, `The requested resource ${req.path} was not found`);
    });
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      if (err instanceof ApiError) return sendError(res, err.status, err.code, err.message);
      const status = (err as { status?: number }).status;
      if (status && status >= 400 && status < 500) return sendError(res, status, 20001, (err as Error).message);
      this.options.log?.(`sandbox error: ${(err as Error).stack ?? String(err)}`);
      sendError(res, 500, 20500, 'Internal Server Error');
    });
    return app;
  }

  private authenticate(req: Request, next: NextFunction): void {
    const header = req.headers.authorization ?? '';
    const [scheme, encoded] = header.split(' ');
    const [user, ...rest] = Buffer.from(encoded ?? '', 'base64')
      .toString('utf8')
      .split(':');
    if (scheme !== 'Basic' || user !== this.accountSid || rest.join(':') !== this.authToken) {
      throw new ApiError(401, 20003, 'Authentication Error - invalid username');
    }
    if (req.params.accountSid !== this.accountSid) {
      throw new ApiError(404, 20404, `The requested resource /2010-04-01/Accounts/${String(req.params.accountSid)} was not found`);
    }
    next();
  }

  /** API faults: a request may hang, be slow, or be refused with 429 or 500. `count`: an authenticated API request. */
  private async injectFaults(res: Response, next: NextFunction, count = true): Promise<void> {
    const faults = this.ctx.faults;
    if (count) this.apiRequests++;
    if (faults.roll('timeout')) {
      const timer = setTimeout(() => {
        this.held.delete(timer);
        res.socket?.destroy();
      }, faults.current.timeoutMs);
      this.held.add(timer);
      return;
    }
    if (faults.roll('slow')) await delay(faults.current.slowMs);
    if (faults.roll('rateLimit')) return sendError(res, 429, 20429, 'Too Many Requests');
    if (faults.roll('serverError')) return sendError(res, 500, 20500, 'Internal Server Error');
    next();
  }
}
