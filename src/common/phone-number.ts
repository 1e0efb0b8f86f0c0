import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ValidateBy, ValidationOptions, buildMessage } from 'class-validator';

/** The E.164 form of a valid phone number, or null when it is not one. */
export function normalizeE164(value: unknown): string | null {
  if (typeof value !== 'string' || !/^\+[1-9]\d{6,14}$/.test(value)) return null;
  const parsed = parsePhoneNumberFromString(value);
  return parsed?.isValid() ? parsed.number : null;
}

/** Masks all but the last four digits, for logs. */
export function maskPhoneNumber(value: string | null | undefined): string {
  if (!value) return '';
  return value.length <= 4 ? '****' : `${value.slice(0, 2)}${'*'.repeat(Math.max(0, value.length - 6))}${value.slice(-4)}`;
}

export const E164_EXAMPLE = '+14155550100';

/** A phone number in E.164 form that libphonenumber-js considers valid. */
export function IsE164(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isE164',
      validator: {
        validate: (value) => normalizeE164(value) !== null,
        defaultMessage: buildMessage((each) => `${each}$property must be a valid E.164 phone number, e.g. ${E164_EXAMPLE}`, options),
      },
    },
    options,
  );
}
