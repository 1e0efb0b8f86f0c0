import { mkdirSync, statSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { BootError } from '../common/boot-error';

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
    if (!inMemory) {
      try {
        mkdirSync(dataDir, { recursive: true });
        if (!statSync(dataDir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'ENOTDIR' : ((error as NodeJS.ErrnoException).code ?? '');
        throw new BootError(
          `PGLITE_DATA_DIR=${dataDir} cannot hold the embedded database: ${reason === 'ENOTDIR' ? 'it is not a folder' : (error as Error).message}; point it at a folder (or set DATABASE_URL)`,
        );
      }
    }
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
