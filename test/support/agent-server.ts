import type { IncomingHttpHeaders } from 'node:http';
import { EventReceiver } from './event-receiver';

/** One turn an agent received. */
export interface AgentTurn {
  headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reads the wire as it is
  body: any;
  /** The request verified with the assistant's secret (standardwebhooks package). */
  verified: boolean;
  /** The service's end of the connection the turn came on. */
  remotePort: number | undefined;
}

/**
 * An assistant's agent on a free local port: the signed receiver, verifying each turn with the
 * assistant's secret and answering `status` with what `reply` returns (after `delayMs`, to be slow).
 */
export class AgentServer extends EventReceiver {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the body as the agent got it
  reply: (body: any) => unknown = () => ({ say: 'OK.' });
  status = 200;

  constructor() {
    super('/agent');
    this.answer = () => this.status;
    this.replyWith = (event) => this.reply(event.body);
  }

  /** The assistant's signing secret. */
  get secret(): string {
    return this.secrets[0] ?? '';
  }

  set secret(value: string) {
    this.secrets.splice(0, this.secrets.length, value);
  }

  get turns(): AgentTurn[] {
    return this.received.map((event) => ({
      headers: event.headers,
      body: event.body,
      verified: event.verifiedBy.length > 0,
      remotePort: event.remotePort,
    }));
  }
}
