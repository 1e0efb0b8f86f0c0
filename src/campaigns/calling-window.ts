/** Days as the API names them, in the order Date.getUTCDay() counts them. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Local hours a recipient may be reached: [start, end) on the listed days. */
export interface CallingWindow {
  /** HH:MM, 00:00 to 23:59. */
  start: string;
  /** HH:MM, after start; 24:00 is the end of the day. */
  end: string;
  days: Weekday[];
}

export const DEFAULT_WINDOW: CallingWindow = { start: '09:00', end: '20:00', days: [...WEEKDAYS] };

export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' });
    formatters.set(zone, f);
  }
  return f;
}

/** The weekday and minute of the day at `at` in `zone`. */
export function localTime(at: Date, zone: string): { day: Weekday; minute: number } {
  let day: Weekday = 'sun';
  let hour = 0;
  let minute = 0;
  for (const part of formatter(zone).formatToParts(at)) {
    if (part.type === 'weekday') day = part.value.slice(0, 3).toLowerCase() as Weekday;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

/** Whether `at` is inside the window in every one of `zones` (a number spanning zones must suit all). */
export function isOpen(window: CallingWindow, zones: string[], at: Date): boolean {
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  return zones.every((zone) => {
    const local = localTime(at, zone);
    return window.days.includes(local.day) && local.minute >= start && local.minute < end;
  });
}

/**
 * The first minute at or after `from` when the window is open in all `zones`, within a week and a
 * day; null when it never is (zones too far apart for a narrow window).
 */
export function nextOpening(window: CallingWindow, zones: string[], from: Date): Date | null {
  if (isOpen(window, zones, from)) return from;
  const step = 60_000;
  let at = Math.ceil(from.getTime() / step) * step;
  const limit = from.getTime() + 8 * 24 * 3600_000;
  for (; at <= limit; at += step) {
    if (isOpen(window, zones, new Date(at))) return new Date(at);
  }
  return null;
}
