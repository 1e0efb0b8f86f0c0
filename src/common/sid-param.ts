/**
 * What a sid in a path may look like at all. A well-formed sid we do not know is a 404 (as on Twilio),
 * so only strings that cannot be a sid are a 400.
 */
export const SID_PARAM_PATTERN = /^[A-Za-z0-9]{2,64}$/;

/** A Twilio sid (as above) or one of our record ids (a uuid): what GET by sid also accepts. */
export const SID_OR_ID_PARAM_PATTERN =
  /^(?:[A-Za-z0-9]{2,64}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;
