import { describe, expect, it } from 'vitest';
import { twilioCallbackUrl } from './twilio-callback-url';

describe('twilioCallbackUrl', () => {
  it('joins the base and the suffix', () => {
    expect(twilioCallbackUrl('https://example.com/api/phone/webhook/', '/status')).toBe('https://example.com/api/phone/webhook/status');
  });

  it('adds query parameters before the fragment the base carries', () => {
    expect(twilioCallbackUrl('https://example.com/hook#rc=5&rp=all', '/status', { record: 'a b' })).toBe(
      'https://example.com/hook/status?record=a+b#rc=5&rp=all',
    );
  });
});

describe('twilioCallbackUrl with configured connection overrides', () => {
  const target = { webhookBaseUrl: 'https://example.com/hook', callbackOverrides: 'rc=5&rp=5xx,ct,rt' };

  it('adds the overrides as the fragment, after the query', () => {
    expect(twilioCallbackUrl(target, '/sms', { a: '1' })).toBe('https://example.com/hook/sms?a=1#rc=5&rp=5xx,ct,rt');
  });

  it('keeps the fragment of a base that has one instead', () => {
    expect(twilioCallbackUrl({ ...target, webhookBaseUrl: 'https://example.com/hook#rc=1' }, '/call')).toBe(
      'https://example.com/hook/call#rc=1',
    );
  });

  it('adds no fragment when no overrides are configured', () => {
    expect(twilioCallbackUrl({ ...target, callbackOverrides: '' }, '/status')).toBe('https://example.com/hook/status');
  });
});
