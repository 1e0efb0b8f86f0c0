import { TwilioGatewayError } from '../twilio/twilio.errors';
import { isAboutTheRecord } from './reconcile.service';

describe('isAboutTheRecord', () => {
  it('counts what Twilio says about the record and local errors, never Twilio being unable to answer', () => {
    expect(isAboutTheRecord(new TwilioGatewayError('not_found', 'The requested resource was not found', 20404))).toBe(true);
    expect(isAboutTheRecord(new TwilioGatewayError('invalid_request', 'bad', 21211))).toBe(true);
    expect(isAboutTheRecord(new Error('value too long for type character varying(32)'))).toBe(true);
    for (const kind of ['unavailable', 'timeout', 'rate_limited', 'auth_failed'] as const) {
      expect(isAboutTheRecord(new TwilioGatewayError(kind, kind))).toBe(false);
    }
  });
});
