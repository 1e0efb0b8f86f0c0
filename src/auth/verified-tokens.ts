import { decode } from 'jsonwebtoken';
import type { AuthenticatedUser } from './authenticated-user';

/** How many tokens are remembered; past that the oldest is forgotten first. */
const CAPACITY = 10_000;
/** A token is verified again at least this often, even when it expires later or never. */
const MAX_AGE_MS = 5 * 60_000;

/**
 * Bearer tokens this instance has verified, with the caller each one stands for: a client sends the
 * same token with every request, and verifying it (HMAC or RSA, JSON, claims, passport) costs more
 * than a short history page's own work. A token's text fixes its signature and claims, and the
 * keys are fixed at boot, so a token verified once verifies again until it expires: an entry is
 * forgotten at the token's `exp`, which verification checks the same way (valid while now < exp).
 * Only tokens that passed are kept, keyed by their whole text.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { user: AuthenticatedUser; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The caller `token` stands for, if it was verified and has not expired since. */
  get(token: string): AuthenticatedUser | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (this.now() < entry.until) return entry.user;
    this.entries.delete(token);
    return undefined;
  }

  /** Remembers a token that has just been verified (its payload is then known to be well formed). */
  remember(token: string, user: AuthenticatedUser): void {
    const payload = decode(token, { json: true });
    const now = this.now();
    const expiresAt = typeof payload?.exp === 'number' ? payload.exp * 1000 : Infinity;
    const until = Math.min(expiresAt, now + MAX_AGE_MS);
    if (until <= now) return;
    if (this.entries.size >= CAPACITY) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { user, until });
  }
}
