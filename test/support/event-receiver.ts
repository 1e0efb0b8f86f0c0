import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One POST the receiver got, checked with the standardwebhooks package against each secret. */
export interface ReceivedEvent {
  at: number;
  headers: IncomingHttpHeaders;
  raw: string;
  /** The parsed body; null when it was not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reads the wire as it is
  body: any;
  /** The secrets (among those the test gave) that verify this request. */
  verifiedBy: string[];
  /** What the receiver answered. */
  answered: number;
  /** The sender's port: the same on two requests sent on one connection. */
  remotePort: number | undefined;
}

/**
 * A signed endpoint on a free local port (a platform's event endpoint, an assistant's agent):
 * keeps every request, verifies it with the Standard Webhooks library, and answers 204, or the
 * status `answer` says (to fail for a while), with the JSON `replyWith` gives when it is set.
 */
export class EventReceiver {
  readonly received: ReceivedEvent[] = [];
  /** The secrets to verify with; add the endpoint's secret once it is known. */
  readonly secrets: string[] = [];
  answer: (event: Omit<ReceivedEvent, 'answered'>) => number = () => 204;
  /** The JSON body to answer with; without it the body is empty (or a refusal's text). */
  replyWith: ((event: Omit<ReceivedEvent, 'answered'>) => unknown) | null = null;
  /** How long each answer takes, as a real endpoint's work does. */
  delayMs = 0;
  /**
   * Closes the next kept connection a request arrives on, unanswered and unrecorded: what a sender
   * meets when its request crosses the receiver's idle-connection close.
   */
  closeNextKeptConnection = false;
  private readonly requestsOn = new WeakMap<Socket, number>();
  private server: Server | null = null;
  url = '';

  constructor(private readonly path = '/hooks') {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const earlier = this.requestsOn.get(req.socket) ?? 0;
      this.requestsOn.set(req.socket, earlier + 1);
      if (earlier > 0 && this.closeNextKeptConnection) {
        this.closeNextKeptConnection = false;
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = null;
        }
        const verifiedBy = this.secrets.filter((secret) => {
          try {
            new Webhook(secret).verify(raw, req.headers as Record<string, string>);
            return true;
          } catch {
            return false;
          }
        });
        const event = { at: Date.now(), headers: req.headers, raw, body, verifiedBy, remotePort: req.socket.remotePort };
        const answered = this.answer(event);
        this.received.push({ ...event, answered });
        const reply = () => {
          if (res.destroyed) return;
          res.statusCode = answered;
          if (!this.replyWith) return res.end(answered >= 300 ? 'receiver says no' : '');
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(this.replyWith(event)));
        };
        if (this.delayMs > 0) setTimeout(reply, this.delayMs);
        else reply();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}${this.path}`;
    return this;
  }

  /** The requests about the resource with `sid` (data.object.sid). */
  about(sid: string): ReceivedEvent[] {
    return this.received.filter((e) => e.body?.data?.object?.sid === sid);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
