import { AuthenticatedUser } from './authenticated-user';
import { Permission } from './permission';
import { VerifiedTokens } from './verified-tokens';

const user: AuthenticatedUser = { sub: 'alice', permissions: new Set([Permission.View]) };
const NOW = Date.UTC(2026, 0, 1);

function setup() {
  const clock = { now: NOW };
  return { clock, tokens: new VerifiedTokens(() => clock.now) };
}

/** A token's text as the cache sees it (it was verified before it is remembered; the signature is not read again). */
const tokenOf = (payload: object) =>
  `${[{ alg: 'HS256', typ: 'JWT' }, payload].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.')}.c2ln`;
const tokenExpiringIn = (seconds: number | undefined) =>
  tokenOf({ sub: 'alice', ...(seconds === undefined ? {} : { exp: NOW / 1000 + seconds }) });

describe('VerifiedTokens', () => {
  it('knows a verified token until the second it expires, then asks for verification again', () => {
    const { clock, tokens } = setup();
    const token = tokenExpiringIn(60);
    expect(tokens.get(token)).toBeUndefined();
    tokens.remember(token, user);
    clock.now = NOW + 59_999;
    expect(tokens.get(token)).toBe(user);
    clock.now = NOW + 60_000;
    expect(tokens.get(token)).toBeUndefined();
  });

  it('knows only the exact token text', () => {
    const { tokens } = setup();
    const token = tokenExpiringIn(60);
    tokens.remember(token, user);
    expect(tokens.get(`${token} `)).toBeUndefined();
    expect(tokens.get(`${token.slice(0, -1)}x`)).toBeUndefined();
  });

  it('verifies a token without expiry, or a long-lived one, again after five minutes', () => {
    const { clock, tokens } = setup();
    const forever = tokenExpiringIn(undefined);
    const day = tokenExpiringIn(86_400);
    tokens.remember(forever, user);
    tokens.remember(day, user);
    clock.now = NOW + 5 * 60_000 - 1;
    expect(tokens.get(forever)).toBe(user);
    expect(tokens.get(day)).toBe(user);
    clock.now = NOW + 5 * 60_000;
    expect(tokens.get(forever)).toBeUndefined();
    expect(tokens.get(day)).toBeUndefined();
  });

  it('keeps at most 10,000 tokens, forgetting the oldest first', () => {
    const { tokens } = setup();
    const all = Array.from({ length: 10_001 }, (_, i) => tokenOf({ sub: `user-${i}`, exp: NOW / 1000 + 60 }));
    for (const token of all) tokens.remember(token, user);
    expect(tokens.get(all[0])).toBeUndefined();
    expect(tokens.get(all[1])).toBe(user);
    expect(tokens.get(all[10_000])).toBe(user);
  });
});
