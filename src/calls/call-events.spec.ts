import { callEventTypes, callOutcome } from './call-events';

describe('call events', () => {
  it('tells each step of a call once, starting with call.initiated', () => {
    expect(callEventTypes('initiating', 'queued')).toEqual(['call.initiated']);
    expect(callEventTypes('queued', 'initiated')).toEqual([]);
    expect(callEventTypes('initiated', 'ringing')).toEqual(['call.ringing']);
    expect(callEventTypes('ringing', 'in-progress')).toEqual(['call.answered']);
    expect(callEventTypes('in-progress', 'completed')).toEqual(['call.completed']);
    expect(callEventTypes('ringing', 'busy')).toEqual(['call.completed']);
  });

  it('starts with call.initiated when the first status seen is later (a stored inbound call, a late intent)', () => {
    expect(callEventTypes(null, 'ringing')).toEqual(['call.initiated', 'call.ringing']);
    expect(callEventTypes('unknown', 'completed')).toEqual(['call.initiated', 'call.completed']);
    expect(callEventTypes(null, 'unknown')).toEqual([]);
  });

  it('names the outcome, voicemail when a machine answered', () => {
    expect(callOutcome({ status: 'completed', answeredBy: 'human' })).toBe('completed');
    expect(callOutcome({ status: 'completed', answeredBy: null })).toBe('completed');
    expect(callOutcome({ status: 'completed', answeredBy: 'machine_end_beep' })).toBe('voicemail');
    expect(callOutcome({ status: 'no-answer', answeredBy: null })).toBe('no-answer');
    expect(callOutcome({ status: 'canceled', answeredBy: null })).toBe('canceled');
  });
});
