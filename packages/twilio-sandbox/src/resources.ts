import { friendlyName } from './phone-inventory';
import { TERMINAL_CALL_STATUSES, type SandboxCall, type SandboxMessage, type SandboxNumber, type SandboxRecording } from './sandbox-state';
import { API_VERSION, formatPrice, rfc2822 } from './wire';

const CONTENT_TYPES: Record<string, string> = {
  gif: 'image/gif',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  pdf: 'application/pdf',
  vcf: 'text/vcard',
  txt: 'text/plain',
};

/** Twilio records the type the media host served; the sandbox fetches nothing and goes by the URL's extension. */
function contentTypeOf(url: string): string {
  let extension = '';
  try {
    extension = new URL(url).pathname.split('.').pop()?.toLowerCase() ?? '';
  } catch {
    // not a URL: unknown type
  }
  return CONTENT_TYPES[extension] ?? 'application/octet-stream';
}

/**
 * The status a call resource shows. `initiated` is a status callback event only: the REST resource of a
 * call that has been dialed but is not ringing yet still says `queued`.
 */
export function restCallStatus(call: SandboxCall): string {
  return call.status === 'initiated' ? 'queued' : call.status;
}

/** The JSON representations, field for field as the 2010 API sends them. */
export class ResourceViews {
  constructor(
    private readonly accountSid: string,
    /** How the sandbox names itself in absolute URLs such as a recording's media_url. */
    private readonly publicBaseUrl: () => string,
  ) {}

  get root(): string {
    return `/2010-04-01/Accounts/${this.accountSid}`;
  }

  call(call: SandboxCall): Record<string, unknown> {
    const uri = `${this.root}/Calls/${call.sid}`;
    const terminal = TERMINAL_CALL_STATUSES.includes(call.status);
    return {
      sid: call.sid,
      date_created: rfc2822(call.dateCreated),
      date_updated: rfc2822(call.dateUpdated),
      parent_call_sid: call.parentCallSid ?? null,
      account_sid: this.accountSid,
      to: call.to,
      to_formatted: friendlyName(call.to),
      from: call.from,
      from_formatted: friendlyName(call.from),
      phone_number_sid: call.phoneNumberSid,
      status: restCallStatus(call),
      start_time: rfc2822(call.startTime),
      end_time: rfc2822(call.endTime),
      duration: call.duration === null ? null : String(call.duration),
      price: terminal && call.price !== null ? formatPrice(call.price) : null,
      price_unit: 'USD',
      direction: call.direction,
      answered_by: call.answeredBy,
      api_version: API_VERSION,
      forwarded_from: null,
      group_sid: null,
      caller_name: null,
      queue_time: String(call.queueTimeMs),
      trunk_sid: null,
      uri: `${uri}.json`,
      subresource_uris: {
        feedback: `${uri}/Feedback.json`,
        notifications: `${uri}/Notifications.json`,
        recordings: `${uri}/Recordings.json`,
        streams: `${uri}/Streams.json`,
        payments: `${uri}/Payments.json`,
        user_defined_message_subscriptions: `${uri}/UserDefinedMessageSubscriptions.json`,
        user_defined_messages: `${uri}/UserDefinedMessages.json`,
        events: `${uri}/Events.json`,
        siprec: `${uri}/Siprec.json`,
        transcriptions: `${uri}/Transcriptions.json`,
      },
    };
  }

  message(message: SandboxMessage): Record<string, unknown> {
    const uri = `${this.root}/Messages/${message.sid}`;
    const priced = message.price !== null;
    return {
      body: message.body,
      num_segments: String(message.numSegments),
      direction: message.direction,
      from: message.from,
      to: message.to,
      date_updated: rfc2822(message.dateUpdated),
      price: priced ? formatPrice(message.price ?? 0) : null,
      error_message: message.errorMessage,
      uri: `${uri}.json`,
      account_sid: this.accountSid,
      num_media: String(message.mediaUrls.length),
      status: message.status,
      messaging_service_sid: null,
      sid: message.sid,
      date_sent: rfc2822(message.dateSent),
      date_created: rfc2822(message.dateCreated),
      error_code: message.errorCode,
      price_unit: priced ? 'USD' : null,
      api_version: API_VERSION,
      subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
    };
  }

  /** The `index`-th item of a message's Media subresource. */
  media(message: SandboxMessage, index: number): Record<string, unknown> {
    const sid = message.mediaSids[index];
    return {
      account_sid: this.accountSid,
      content_type: contentTypeOf(message.mediaUrls[index] ?? ''),
      date_created: rfc2822(message.dateCreated),
      date_updated: rfc2822(message.dateCreated),
      parent_sid: message.sid,
      sid,
      uri: `${this.root}/Messages/${message.sid}/Media/${sid}.json`,
    };
  }

  number(number: SandboxNumber): Record<string, unknown> {
    const uri = `${this.root}/IncomingPhoneNumbers/${number.sid}`;
    return {
      account_sid: this.accountSid,
      address_sid: null,
      address_requirements: 'none',
      api_version: API_VERSION,
      beta: false,
      capabilities: number.capabilities,
      date_created: rfc2822(number.dateCreated),
      date_updated: rfc2822(number.dateUpdated),
      friendly_name: number.friendlyName,
      identity_sid: null,
      phone_number: number.phoneNumber,
      origin: 'twilio',
      sid: number.sid,
      sms_application_sid: null,
      sms_fallback_method: number.smsFallbackMethod,
      sms_fallback_url: number.smsFallbackUrl,
      sms_method: number.smsMethod,
      sms_url: number.smsUrl,
      status_callback: number.statusCallback,
      status_callback_method: number.statusCallbackMethod,
      trunk_sid: null,
      uri: `${uri}.json`,
      voice_receive_mode: 'voice',
      voice_application_sid: null,
      voice_caller_id_lookup: false,
      voice_fallback_method: number.voiceFallbackMethod,
      voice_fallback_url: number.voiceFallbackUrl,
      voice_method: number.voiceMethod,
      voice_url: number.voiceUrl,
      emergency_status: 'Inactive',
      emergency_address_sid: null,
      emergency_address_status: 'unregistered',
      bundle_sid: null,
      status: 'in-use',
      type: 'local',
      subresource_uris: { assigned_add_ons: `${uri}/AssignedAddOns.json` },
    };
  }

  recording(recording: SandboxRecording, price: number): Record<string, unknown> {
    const uri = `${this.root}/Recordings/${recording.sid}`;
    return {
      ...this.recordingFields(recording, price),
      uri: `${uri}.json`,
      subresource_uris: { add_on_results: `${uri}/AddOnResults.json`, transcriptions: `${uri}/Transcriptions.json` },
      media_url: `${this.publicBaseUrl()}${uri}`,
    };
  }

  /** A recording as the call's Recordings subresource shows it: with its track, without media_url. */
  callRecording(recording: SandboxRecording, price: number): Record<string, unknown> {
    return {
      ...this.recordingFields(recording, price),
      uri: `${this.root}/Calls/${recording.callSid}/Recordings/${recording.sid}.json`,
      track: recording.track,
    };
  }

  private recordingFields(recording: SandboxRecording, price: number): Record<string, unknown> {
    return {
      account_sid: this.accountSid,
      api_version: API_VERSION,
      call_sid: recording.callSid,
      conference_sid: null,
      date_created: rfc2822(recording.dateCreated),
      date_updated: rfc2822(recording.dateCreated),
      start_time: rfc2822(recording.startTime),
      duration: String(recording.duration),
      sid: recording.sid,
      price: formatPrice(price),
      price_unit: 'USD',
      status: 'completed',
      channels: recording.channels,
      source: recording.source,
      error_code: null,
      encryption_details: null,
    };
  }
}
