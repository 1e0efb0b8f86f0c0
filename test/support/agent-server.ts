import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

/** One turn an agent received. */
export interface AgentTurn {
  headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reads the wire as it is
  body: any;
  /** The request verified with the assistant's secret (standardwebhooks package). */
  verified: boolean;
}

/**
 * An assistant's agent on a free local port: verifies each turn with the Standard Webhooks
 * library, keeps it, and answers what `reply` returns (after `delayMs`, to be slow).
 */
export class AgentServer {
  readonly turns: AgentTurn[] = [];
  secret = '';
  delayMs = 0;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the body as the agent got it
  reply: (body: any) => unknown = () => ({ say: 'OK.' });
  status = 200;
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let verified: boolean;
        try {
          new Webhook(this.secret).verify(raw, req.headers as Record<string, string>);
          verified = true;
        } catch {
          verified = false;
        }
        const body: unknown = JSON.parse(raw);
        this.turns.push({ headers: req.headers, body, verified });
        setTimeout(() => {
          if (res.destroyed) return;
          res.statusCode = this.status;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(this.reply(body)));
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}/agent`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
