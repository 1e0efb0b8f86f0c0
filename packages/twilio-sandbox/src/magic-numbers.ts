import { ApiError } from './wire';

/** Twilio's test-credential numbers (+1500555000x). */
export const MAGIC_PREFIX = '+1500555000';
export const MAGIC_SUCCESS = '+15005550006';

export function isMagic(number: string): boolean {
  return number.startsWith(MAGIC_PREFIX) && number.length === 12;
}

type Rule = [code: number, message: (n: string) => string];

const CALL_FROM: Record<string, Rule> = {
  '+15005550001': [21212, (n) => `The caller ID ${n} is not a valid phone number.`],
};
const CALL_TO: Record<string, Rule> = {
  '+15005550001': [21217, (n) => `Phone number ${n} does not appear to be valid.`],
  '+15005550002': [21214, (n) => `'To' phone number ${n} cannot be reached.`],
  '+15005550003': [21215, (n) => `Account not authorized to call ${n}. Perhaps you need to enable some international permissions.`],
  '+15005550004': [21216, (n) => `Call blocked to ${n}.`],
};
const SMS_FROM: Record<string, Rule> = {
  '+15005550001': [21212, (n) => `The 'From' number ${n} is not a valid phone number, shortcode, or alphanumeric sender ID.`],
  '+15005550007': [
    21606,
    (n) => `The 'From' phone number provided (${n}) is not a valid message-capable Twilio phone number for this destination.`,
  ],
  '+15005550008': [21611, () => `This 'From' number has exceeded the maximum number of queued messages.`],
};
const SMS_TO: Record<string, Rule> = {
  '+15005550001': [21211, (n) => `Invalid 'To' Phone Number: ${n}`],
  '+15005550002': [21612, (n) => `The 'To' phone number: ${n}, is not currently reachable using the 'From' phone number via SMS.`],
  '+15005550003': [21408, (n) => `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${n}.`],
  '+15005550004': [21610, () => `Attempt to send to unsubscribed recipient`],
  '+15005550009': [21614, (n) => `'To' number ${n} is not a valid mobile number`],
};

function check(table: Record<string, Rule>, number: string): void {
  const rule = table[number];
  if (rule) throw new ApiError(400, rule[0], rule[1](number));
}

export const magicCallFrom = (n: string) => check(CALL_FROM, n);
export const magicCallTo = (n: string) => check(CALL_TO, n);
export const magicSmsFrom = (n: string) => check(SMS_FROM, n);
export const magicSmsTo = (n: string) => check(SMS_TO, n);
