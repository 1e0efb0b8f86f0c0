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
