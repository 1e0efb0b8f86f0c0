import { Injectable } from '@nestjs/common';

/**
 * Whether this instance is draining (SIGTERM/SIGINT received): readiness answers 503, new API
 * requests are refused, scheduled jobs stop starting runs.
 */
@Injectable()
export class ShutdownState {
  private since: number | null = null;

  get draining(): boolean {
    return this.since !== null;
  }

  /** Starts draining; false when it had already started. */
  begin(): boolean {
    if (this.since !== null) return false;
    this.since = Date.now();
    return true;
  }
}
