import { ValidateBy } from 'class-validator';

/** Text that fits in a TwiML document: XML 1.0 has no place for most control characters. */
export function IsXmlText(): PropertyDecorator {
  return ValidateBy({
    name: 'isXmlText',
    validator: {
      // eslint-disable-next-line no-control-regex -- these control characters are what the check refuses
      validate: (value) => typeof value !== 'string' || !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(value),
      defaultMessage: (args) => `${args?.property} must not contain control characters other than tab and line breaks`,
    },
  });
}
