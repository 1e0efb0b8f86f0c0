import { createServer, Server, Socket, connect } from 'node:net';

export interface CapturedStatement {
  sql: string;
  /** The bound values, as the driver sent them (text format); null for SQL NULL. */
  params: (string | null)[];
}

/**
 * A pass-through TCP proxy in front of PostgreSQL that reads the frontend messages of every
 * connection (wire protocol 3: Parse, Bind, simple Query) and keeps each executed statement with
 * the values bound to it. The service, pointed at the proxy, shows exactly the SQL it runs.
 */
export class SqlCapture {
  readonly statements: CapturedStatement[] = [];
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  port = 0;

  static async start(upstreamHost: string, upstreamPort: number): Promise<SqlCapture> {
    const capture = new SqlCapture();
    await capture.listen(upstreamHost, upstreamPort);
    return capture;
  }

  private async listen(upstreamHost: string, upstreamPort: number): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(upstreamPort, upstreamHost);
      this.sockets.add(client).add(upstream);
      const parsed = new Map<string, string>();
      let buffer = Buffer.alloc(0);
      let started = false;
      client.on('data', (chunk: Buffer) => {
        upstream.write(chunk);
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          if (!started) {
            // the startup message (and an SSLRequest before it) has a length but no type byte
            if (buffer.length < 8) break;
            const length = buffer.readInt32BE(0);
            if (buffer.length < length) break;
            started = buffer.readInt32BE(4) !== 80877103;
            buffer = buffer.subarray(length);
            continue;
          }
          if (buffer.length < 5) break;
          const length = buffer.readInt32BE(1);
          if (buffer.length < 1 + length) break;
          this.read(String.fromCharCode(buffer[0]), buffer.subarray(5, 1 + length), parsed);
          buffer = buffer.subarray(1 + length);
        }
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  private read(type: string, body: Buffer, parsed: Map<string, string>): void {
    const cstring = (at: number): [string, number] => {
      const end = body.indexOf(0, at);
      return [body.toString('utf8', at, end), end + 1];
    };
    if (type === 'Q') {
      this.statements.push({ sql: cstring(0)[0], params: [] });
    } else if (type === 'P') {
      const [name, at] = cstring(0);
      parsed.set(name, cstring(at)[0]);
    } else if (type === 'B') {
      const [, afterPortal] = cstring(0);
      const [statement, afterName] = cstring(afterPortal);
      let at = afterName;
      const formats = body.readInt16BE(at);
      at += 2 + formats * 2;
      const count = body.readInt16BE(at);
      at += 2;
      const params: (string | null)[] = [];
      for (let i = 0; i < count; i++) {
        const length = body.readInt32BE(at);
        at += 4;
        params.push(length < 0 ? null : body.toString('utf8', at, at + length));
        if (length > 0) at += length;
      }
      this.statements.push({ sql: parsed.get(statement) ?? '', params });
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
