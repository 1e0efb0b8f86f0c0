/** Every event type the service emits; endpoints subscribe to some of them or to `*`. */
export const EVENT_TYPES = [
  'call.initiated',
  'call.ringing',
  'call.answered',
  'call.completed',
  'call.recording.ready',
  'call.report.ready',
  'call.turn',
  'sms.sent',
  'sms.delivered',
  'sms.failed',
  'sms.received',
  'number.purchased',
  'number.purchase_failed',
  'number.released',
  'opt_out.changed',
  'campaign.started',
  'campaign.paused',
  'campaign.completed',
  'campaign.recipient.completed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** How a call ended, as `call.completed` reports it. */
export const CALL_OUTCOMES = ['completed', 'busy', 'no-answer', 'failed', 'canceled', 'voicemail'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** What an event is about: the resource as the API returns it. */
export interface EventResource {
  /** call, message, phone_number, opt_out, recording. */
  type: string;
  /** Our record id, when the resource has one. */
  id?: string | null;
  /** Twilio's sid (or the phone number of an opt-out). */
  sid?: string | null;
  /** The resource as the API returns it. */
  object: object;
}

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

const EVENT_ID_PREFIX = 'evt_';

/** Public event id: evt_ and the row's uuid without dashes. */
export function publicEventId(uuid: string): string {
  return EVENT_ID_PREFIX + uuid.replace(/-/g, '');
}

/** The row uuid of a public event id; null when `id` is not one. */
export function eventUuid(id: string): string | null {
  const match = /^evt_([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/.exec(id);
  return match ? match.slice(1).join('-') : null;
}
