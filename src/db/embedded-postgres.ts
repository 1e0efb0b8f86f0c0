import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * PGlite behind a Postgres wire-protocol socket, so the ordinary `pg` driver and TypeORM use it
 * unchanged. PGlite has one session, so the server takes one connection and the pool must too.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly port: number,
  ) {}

  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const inMemory = dataDir.startsWith('memory://');
    if (!inMemory) mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(inMemory ? undefined : { dataDir });
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    const port = Number(server.getServerConn().split(':').pop());
    return new EmbeddedPostgres(db, server, port);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }
}
