import { messageEventTypes } from './message-events';

describe('message events', () => {
  it('tells sent, delivered and failed once each', () => {
    expect(messageEventTypes('initiating', 'queued')).toEqual([]);
    expect(messageEventTypes('sending', 'sent')).toEqual(['sms.sent']);
    expect(messageEventTypes('sent', 'delivered')).toEqual(['sms.delivered']);
    expect(messageEventTypes('sent', 'undelivered')).toEqual(['sms.failed']);
    expect(messageEventTypes('queued', 'failed')).toEqual(['sms.failed']);
    expect(messageEventTypes('delivered', 'read')).toEqual([]);
  });

  it('tells sms.sent before sms.delivered when the sent callback was lost', () => {
    expect(messageEventTypes('queued', 'delivered')).toEqual(['sms.sent', 'sms.delivered']);
  });

  it('tells an inbound message received', () => {
    expect(messageEventTypes(null, 'received')).toEqual(['sms.received']);
  });
});
