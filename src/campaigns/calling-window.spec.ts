import { DEFAULT_WINDOW, isOpen, nextOpening } from './calling-window';
import { timeZonesOf } from './phone-time-zones';

describe('calling window', () => {
  it('holds in local time: 10:00 in New York is 07:00 in Los Angeles', () => {
    const at = new Date('2026-12-07T15:00:00Z');
    expect(isOpen(DEFAULT_WINDOW, ['America/New_York'], at)).toBe(true);
    expect(isOpen(DEFAULT_WINDOW, ['America/Los_Angeles'], at)).toBe(false);
    expect(isOpen(DEFAULT_WINDOW, ['America/New_York', 'America/Los_Angeles'], at)).toBe(false);
  });

  it('respects the days, locally: Saturday in Sydney is still Friday in UTC', () => {
    const window = { start: '09:00', end: '20:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const };
    // Friday 23:00 UTC is Saturday 10:00 in Sydney
    const at = new Date('2026-12-04T23:00:00Z');
    expect(isOpen({ ...window, days: [...window.days] }, ['Australia/Sydney'], at)).toBe(false);
    expect(isOpen({ ...window, days: [...window.days] }, ['Europe/London'], at)).toBe(false);
    expect(isOpen({ ...window, days: [...window.days, 'sat'] }, ['Australia/Sydney'], at)).toBe(true);
  });

  it('finds the next opening that suits every zone, or none', () => {
    const from = new Date('2026-12-07T05:00:00Z');
    expect(nextOpening(DEFAULT_WINDOW, ['America/New_York'], from)?.toISOString()).toBe('2026-12-07T14:00:00.000Z');
    expect(nextOpening({ start: '09:00', end: '10:00', days: DEFAULT_WINDOW.days }, ['Asia/Tokyo', 'America/New_York'], from)).toBeNull();
  });

  it('takes the zones from the number, all of them where its prefix spans several', () => {
    expect(timeZonesOf('+14155550100')).toEqual(['America/Los_Angeles']);
    expect(timeZonesOf('+442071234567')).toEqual(['Europe/London']);
    expect(timeZonesOf('+18002345678').length).toBeGreaterThan(10);
  });
});
