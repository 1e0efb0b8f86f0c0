import { RefusedAddressError, guardedLookup, outboundUrlProblem, refusedAddress } from './outbound-url';

describe('outbound URLs', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.1.1',
    '0.0.0.0',
    '::1',
    'fd00:ec2::254',
    'fe80::1',
    '::ffff:10.0.0.1',
    '::',
  ])('refuses %s', (address) => {
    expect(refusedAddress(address)).not.toBeNull();
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111'])('allows the public address %s', (address) => {
    expect(refusedAddress(address)).toBeNull();
  });

  it('allows only http(s) URLs without credentials', () => {
    expect(outboundUrlProblem('https://example.com/x', false)).toBeNull();
    expect(outboundUrlProblem('ftp://example.com/x', false)).toMatch(/http/);
    expect(outboundUrlProblem('https://user:pw@example.com/x', false)).toMatch(/password/);
    expect(outboundUrlProblem('not a url', false)).toMatch(/absolute/);
  });

  it('allows private addresses only when told to', () => {
    expect(outboundUrlProblem('http://127.0.0.1:8080/x', false)).toMatch(/refused/);
    expect(outboundUrlProblem('http://127.0.0.1:8080/x', true)).toBeNull();
  });

  it('refuses, when connecting, a hostname that resolves to a loopback address', async () => {
    const lookup = guardedLookup(false);
    const error = await new Promise<unknown>((resolve) => lookup('localhost', {}, (e) => resolve(e)));
    expect(error).toBeInstanceOf(RefusedAddressError);
    expect(String((error as Error).message)).toMatch(/localhost resolves to .*refused/);
    const allowed = await new Promise<unknown>((resolve) => guardedLookup(true)('localhost', {}, (e, address) => resolve(e ?? address)));
    expect(allowed).toMatch(/^(127\.0\.0\.1|::1)$/);
  });
});
