import { ApiAtLeastOneOf } from '../common/api-schema-rule';
import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { DIRECTIONS, HistoryQueryDto } from '../common/history-query.dto';
import { ApiMetadata, IsMetadata, IsMetadataFilter, Metadata } from '../common/metadata';
import { IsE164 } from '../common/phone-number';
import { INTENT_STATUSES } from '../common/intent-status';
import { SID_OR_ID_PARAM_PATTERN } from '../common/sid-param';
import { MESSAGE_STATUSES } from '../twilio/twilio.types';
import type { Direction, MessageStatus } from '../twilio/twilio.types';
import type { MessageRecordStatus } from './message-record.entity';

const MESSAGE_RECORD_STATUSES: readonly MessageRecordStatus[] = [...INTENT_STATUSES, ...MESSAGE_STATUSES];

/** Sends an SMS (or an MMS when media is attached). */
@ApiAtLeastOneOf('message', 'media_url')
export class SendSmsDto {
  /**
   * Recipient in E.164 form.
   * @example +14155550100
   */
  @IsE164()
  to: string;

  /**
   * Text of the message, 1-1600 characters; required unless `media_url` is given.
   * @example Hello! This is a message from Samsaek AI Assistant.
   */
  @ValidateIf((o: SendSmsDto) => o.message !== undefined || !Array.isArray(o.media_url) || o.media_url.length === 0)
  @IsString()
  @Length(1, 1600, { message: 'message must be 1 to 1600 characters long (required unless media_url is given)' })
  message?: string;

  /**
   * Sender in E.164 form; defaults to the service's Twilio number.
   * @example +14155550199
   */
  @IsOptional()
  @IsE164()
  from?: string;

  /**
   * Name of the AI agent on whose behalf the message is sent.
   * @example Samsaek Bot
   */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  agent_name?: string;

  /**
   * Public http(s) URLs of media to attach (MMS), at most 10.
   * @example ["https://example.com/images/receipt.png"]
   */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { each: true, message: 'each media_url must be an http(s) URL' },
  )
  @MaxLength(2000, { each: true })
  media_url?: string[];

  /**
   * Your own labels for the message (up to 20 keys of at most 40 characters, string values of at most 500),
   * returned with it everywhere and usable as a history filter.
   * @example {"conversation_id": "conv_8f2a1c", "customer_id": "cus_1042"}
   */
  @IsOptional()
  @IsMetadata()
  metadata?: Metadata;
}

/** Filters and paging of the message history. */
export class SmsHistoryQueryDto extends HistoryQueryDto {
  /** Only messages in this status (`initiating` and `unknown` included). */
  @ApiProperty({ enum: MESSAGE_RECORD_STATUSES, enumName: 'MessageStatus', required: false })
  @IsOptional()
  @IsIn(MESSAGE_RECORD_STATUSES)
  status?: MessageRecordStatus;

  /** Only messages with this metadata: `metadata[key]=value`, several ANDed. */
  @IsOptional()
  @IsMetadataFilter()
  metadata?: Metadata;
}

export class MessageSidParamsDto {
  /**
   * Twilio message SID (SM or MM followed by 32 hex characters) or the record's `id` (a UUID, known
   * before Twilio answers). One we do not know is a 404.
   * @example SM0123456789abcdef0123456789abcdef
   */
  @ApiProperty({ pattern: SID_OR_ID_PARAM_PATTERN.source })
  @Matches(SID_OR_ID_PARAM_PATTERN, { message: 'sid must be a Twilio sid (2 to 64 letters and digits) or a record id (UUID)' })
  sid: string;
}

/** One status the message was seen in. */
export class MessageTimelineEntryDto {
  /** @example delivered */
  @ApiProperty({ enum: MESSAGE_RECORD_STATUSES, enumName: 'MessageStatus' })
  status: MessageStatus;
  /** Always -1 for messages: their status callbacks carry no sequence number. @example -1 */
  sequence_number: number;
  /** Where the status came from: api, webhook, refresh or reconcile. @example webhook */
  source: string;
  /** When the status was reached (or observed). */
  occurred_at: Date;
  /** Twilio error code reported with the status. @example null */
  error_code: number | null;
}

/**
 * A message as the service knows it. Before Twilio confirms a message its record has an `id` but no
 * `sid`: status `initiating` while the request is on its way, `unknown` when Twilio's answer was lost.
 * Look such a record up by `id` (GET /api/phone/sms/{id}) until it has a sid or ends `failed`; never
 * send it again to find out, that may text the person twice.
 */
export class MessageDto {
  /** The record's id; GET /api/phone/sms/{id} finds the message with it. @example 0b6c1f2e-5d8a-4c3b-9e7f-1a2b3c4d5e6f */
  id: string;
  /** Twilio message SID; null until Twilio has confirmed the message. @example SM0123456789abcdef0123456789abcdef */
  sid: string | null;
  /** @example outbound */
  @ApiProperty({ enum: DIRECTIONS, enumName: 'Direction' })
  direction: Direction;
  /** Sender, E.164. @example +14155550199 */
  from: string;
  /** Recipient, E.164. @example +14155550100 */
  to: string;
  /** Text of the message. @example Hello! This is a message from Samsaek AI Assistant. */
  body: string;
  /** Number of SMS segments Twilio split the text into (billed per segment). @example 1 */
  segments: number;
  /** Attached media URLs. */
  media_urls: string[];
  /**
   * Current status: Twilio's, or `initiating` (asked, Twilio's answer not stored yet) or `unknown`
   * (Twilio's answer was lost; reconciliation finds out, and a message Twilio never received ends `failed`).
   * @example delivered
   */
  @ApiProperty({ enum: MESSAGE_RECORD_STATUSES, enumName: 'MessageStatus' })
  status: MessageRecordStatus;
  /** AI agent the message was sent for. @example Samsaek Bot */
  agent_name: string | null;
  /** Your labels for the message, as sent; `{}` when none were given (and for inbound messages). */
  @ApiMetadata()
  metadata: Metadata;
  /** Subject of the token that sent the message; null for inbound messages. @example agent-service */
  created_by: string | null;
  /** Twilio error code, when delivery failed. @example 30003 */
  error_code: number | null;
  /** Twilio error message, when delivery failed. @example null */
  error_message: string | null;
  /** What Twilio charged, as a decimal string with Twilio's sign (negative = charge); null until Twilio reports it. @example "-0.00750" */
  price: string | null;
  /** ISO 4217 currency of `price`. @example USD */
  price_unit: string | null;
  /** When Twilio sent the message. */
  sent_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** Every status the message was seen in, oldest first (only on GET /api/phone/sms/{sid}). */
  timeline?: MessageTimelineEntryDto[];
}

/** One page of the message history, newest first. */
export class MessageHistoryDto {
  messages: MessageDto[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  next_cursor: string | null;
}
