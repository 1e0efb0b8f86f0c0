/**
 * A reason the service cannot start that the operator fixes in the configuration: main prints its
 * message as one line and exits 1. The message names the setting and never holds a secret.
 */
export class BootError extends Error {
  override readonly name = 'BootError';
}

/** A connection URL fit to print: the password, if any, replaced by ***. */
export function maskedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/** The one line to print for a boot failure, or null when it is not one we can name. */
export function describeBootFailure(error: unknown, ports: { port: number; host: string; sandboxPort: number }): string | null {
  if (error instanceof BootError) return error.message;
  const e = error as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES') {
    const why = e.code === 'EADDRINUSE' ? 'is already in use' : 'may not be opened by this user';
    if (e.port === ports.port || e.port === undefined) {
      return `Cannot listen on ${ports.host}:${ports.port}: the port ${why}; set PORT (and HOST) to a free one`;
    }
    return `Cannot start the built-in Twilio sandbox on 127.0.0.1:${e.port}: the port ${why}; set SANDBOX_PORT to a free one (0 picks any)`;
  }
  return null;
}
