import { Client } from 'pg';
import { BootError, maskedUrl } from '../common/boot-error';

/** Errors that may go away by themselves while a database starts (the host or port not up yet). */
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', '57P03']);

/**
 * Waits up to waitMs for the database at url to accept a connection, so that a database that is
 * still starting does not fail the boot; anything else (or the wait running out) is a BootError
 * naming DATABASE_URL, with the password masked.
 */
export async function waitForDatabase(url: string, waitMs: number, connectTimeoutMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      const code = (error as { code?: string }).code ?? '';
      const transient = TRANSIENT.has(code) || /timeout/i.test((error as Error).message);
      if (!transient || Date.now() + 500 > deadline) {
        const waited = transient ? ` (waited ${Math.round(waitMs / 1000)} s, DB_CONNECT_WAIT_SECONDS)` : '';
        throw new BootError(
          `Cannot connect to the database at DATABASE_URL=${maskedUrl(url)}: ${(error as Error).message || code}${waited}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
