import { friendlyName } from './phone-inventory';
import { TERMINAL_CALL_STATUSES, type SandboxCall, type SandboxMessage, type SandboxNumber, type SandboxRecording } from './sandbox-state';
import { API_VERSION, formatPrice, rfc2822 } from './wire';

/** The JSON representations, field for field as the 2010 API sends them. */
export class ResourceViews {
  constructor(private readonly accountSid: string) {}

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
      parent_call_sid: null,
      account_sid: this.accountSid,
      to: call.to,
      to_formatted: friendlyName(call.to),
      from: call.from,
      from_formatted: friendlyName(call.from),
      phone_number_sid: call.phoneNumberSid,
      status: call.status,
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
      uri: `${this.root}/Recordings/${recording.sid}.json`,
      encryption_details: null,
      subresource_uris: {},
      media_url: `${this.root}/Recordings/${recording.sid}`,
    };
  }
}
