import { classifyTwilioError } from './twilio.errors';

describe('classifyTwilioError', () => {
  it.each([
    [400, 21211, 400, 'twilio_invalid_request', 'to'],
    [400, 21212, 400, 'twilio_invalid_request', 'from'],
    [400, 21610, 400, 'twilio_refused_recipient', 'to'],
    [400, 21422, 400, 'twilio_invalid_request', 'phone_number'],
    [403, 20005, 402, 'insufficient_funds', undefined],
    [429, 20429, 429, 'rate_limited', undefined],
    [401, 20003, 502, 'twilio_auth_failed', undefined],
    [500, undefined, 502, 'twilio_unavailable', undefined],
    [503, undefined, 502, 'twilio_unavailable', undefined],
  ])('HTTP %s code %s → %s %s', (httpStatus, code, status, errorCode, field) => {
    const appError = classifyTwilioError(httpStatus, code, 'msg');
    expect(appError.status).toBe(status);
    expect(appError.code).toBe(errorCode);
    expect(appError.twilioCode).toBe(code);
    expect(appError.details?.[0]?.field).toBe(field);
  });

  it('asks a rate-limited client to retry after a second', () => {
    expect(classifyTwilioError(429, 20429, 'slow down').retryAfterSeconds).toBe(1);
  });
});
