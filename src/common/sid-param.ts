/**
 * What a sid in a path may look like at all. A well-formed sid we do not know is a 404 (as on Twilio),
 * so only strings that cannot be a sid are a 400.
 */
export const SID_PARAM_PATTERN = /^[A-Za-z0-9]{2,64}$/;
