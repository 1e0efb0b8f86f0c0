import { HttpStatus } from '@nestjs/common';
import { AppError } from './app-error';
import { appLogger } from './logger';

/** A stored request Twilio's answer never completed, as reconciliation sees it. */
export interface UnresolvedIntent {
  id: string;
  to: string;
  createdAt: Date;
}

/** Seconds a client is asked to wait before retrying when the intent could not be stored. */
const INTENT_RETRY_AFTER_SECONDS = 5;
/** Pauses between attempts to store Twilio's answer on the intent. */
const COMPLETE_BACKOFF_MS = [50, 200, 500];

/**
 * Stores the intent of an action with an outside effect. When that fails nothing may be asked of
 * Twilio: the client gets 503 dependency_unavailable with Retry-After.
 */
export async function storeIntent<T>(store: () => Promise<T>): Promise<T> {
  try {
    return await store();
  } catch (error) {
    appLogger().event('error', 'intent_not_stored', { error: error instanceof Error ? error.message : String(error) });
    throw new AppError(
      HttpStatus.SERVICE_UNAVAILABLE,
      'dependency_unavailable',
      'The request could not be recorded, so nothing was sent; retry later',
      undefined,
      undefined,
      INTENT_RETRY_AFTER_SECONDS,
    );
  }
}

/**
 * Writes Twilio's answer onto the intent, retrying a failed write with a short backoff; null when
 * every attempt failed (the caller answers with what it knows and leaves the row to callbacks and
 * reconciliation) or the row could not take the answer.
 */
export async function completeWithRetries<T>(complete: () => Promise<T | null>, context: Record<string, string>): Promise<T | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await complete();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= COMPLETE_BACKOFF_MS.length) {
        appLogger().event('error', 'intent_completion_failed', { ...context, attempts: attempt + 1, error: message });
        return null;
      }
      await new Promise((resolve) => setTimeout(resolve, COMPLETE_BACKOFF_MS[attempt]));
    }
  }
}
