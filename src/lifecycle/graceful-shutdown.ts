import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { appLogger } from '../common/logger';
import { ShutdownState } from './shutdown-state';

/**
 * On SIGTERM/SIGINT: readiness turns red and new API requests are refused (ShutdownState), the
 * listener closes, idle keep-alive sockets are closed and busy ones close after their response;
 * once every connection has ended the app closes (scheduled jobs, sandbox, database pool) and the
 * process exits 0. At `timeoutMs` whatever is still open is cut and the process exits anyway.
 */
export function installGracefulShutdown(app: INestApplication, timeoutMs: number): void {
  const exit = (code: number) => process.exit(code);
  const server = app.getHttpServer() as Server;
  const state = app.get(ShutdownState);

  const drain = async (signal: NodeJS.Signals): Promise<void> => {
    if (!state.begin()) return;
    const started = Date.now();
    const step = (event: string, fields: Record<string, unknown> = {}) =>
      appLogger().event('info', event, { ...fields, elapsed_ms: Date.now() - started });
    step('shutdown_started', { signal, timeout_ms: timeoutMs });

    const deadline = setTimeout(() => {
      appLogger().event('warn', 'shutdown_deadline_reached', { elapsed_ms: Date.now() - started, timeout_ms: timeoutMs });
      server.closeAllConnections();
      exit(0);
    }, timeoutMs);

    try {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        step('listener_closed');
        server.closeIdleConnections();
      });
      step('connections_drained');
      await app.close();
      step('app_closed', { detail: 'scheduled jobs stopped, database pool closed' });
    } catch (error) {
      appLogger().event('error', 'shutdown_failed', { error: error instanceof Error ? error.message : String(error) });
    }
    clearTimeout(deadline);
    step('shutdown_complete');
    exit(0);
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void drain(signal));
}
