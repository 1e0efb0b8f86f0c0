import { ValidateBy, ValidationOptions } from 'class-validator';

/**
 * ISO 8601 in its extended form only: a calendar date (midnight UTC), or a date-time with seconds and
 * fractions optional and a zone (Z or ±HH:MM) required. Basic (20250101T000000Z), week (2025-W01-1) and
 * ordinal (2025-001) dates, and date-times without a zone (whose instant depends on the server's time
 * zone), are not accepted.
 */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/** The instant `value` names, or null when it is not one of the accepted forms or not a real date. */
export function parseInstant(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const m = INSTANT.exec(value);
  if (!m) return null;
  const [, year, month, day, hour = '0', minute = '0', second = '0', , offsetHour = '0', offsetMinute = '0'] = m;
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  calendar.setUTCFullYear(Number(year));
  const realDate =
    calendar.getUTCFullYear() === Number(year) && calendar.getUTCMonth() === Number(month) - 1 && calendar.getUTCDate() === Number(day);
  if (!realDate || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59 || Number(offsetHour) > 23 || Number(offsetMinute) > 59)
    return null;
  const instant = new Date(value);
  return Number.isNaN(instant.getTime()) ? null : instant;
}

/** An ISO 8601 date or date-time that names exactly one instant (see parseInstant). */
export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isInstant',
      validator: {
        validate: (value) => parseInstant(value) !== null,
        defaultMessage: (args) => `${args?.property} must be an ISO 8601 date (2025-01-01) or date-time with a zone (2025-01-01T00:00:00Z)`,
      },
    },
    options,
  );
}
