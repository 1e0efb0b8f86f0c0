import { SID_PARAM_PATTERN } from '../common/sid-param';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { AcceptsNull } from '../common/nullable';
import { IsE164 } from '../common/phone-number';
import { NUMBER_STATUSES, type NumberStatus } from './number-status';

export const NUMBER_TYPES = ['local', 'toll_free', 'mobile'] as const;
export type NumberTypeParam = (typeof NUMBER_TYPES)[number];

/** Query strings carry booleans as text; anything but true/false is left as is so validation names it. */
function toBoolean({ value }: { value: unknown }): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

function toInteger({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && /^-?\d{1,6}$/.test(value) ? Number(value) : value;
}

const WEBHOOK_URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** Filters for numbers Twilio has available to buy. */
export class SearchNumbersQueryDto {
  /**
   * Three-digit area code (US and CA only).
   * @example "415"
   */
  @IsOptional()
  @Matches(/^[2-9]\d{2}$/, { message: 'area_code must be a three-digit North American area code, e.g. 415' })
  area_code?: string;

  /**
   * ISO-3166 alpha-2 country code.
   * @example US
   */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toUpperCase() : value))
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an ISO-3166 alpha-2 country code, e.g. US' })
  country?: string = 'US';

  /**
   * Pattern the number must contain: digits, letters (matched on the keypad) and `*` for any one digit.
   * @example "555"
   */
  @IsOptional()
  @Matches(/^[0-9A-Za-z*]{2,16}$/, { message: 'contains must be 2 to 16 digits, letters or *' })
  contains?: string;

  /** Kind of number. */
  @IsOptional()
  @IsIn(NUMBER_TYPES)
  type?: NumberTypeParam = 'local';

  /** Only numbers that can send and receive SMS. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'sms_enabled must be true or false' })
  sms_enabled?: boolean;

  /** Only numbers that can make and receive calls. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'voice_enabled must be true or false' })
  voice_enabled?: boolean;

  /** Only numbers that can send and receive MMS. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'mms_enabled must be true or false' })
  mms_enabled?: boolean;

  /**
   * How many numbers to return, 1 to 50.
   * @example 20
   */
  @IsOptional()
  @Transform(toInteger)
  @IsInt({ message: 'limit must be an integer between 1 and 50' })
  @Min(1, { message: 'limit must be an integer between 1 and 50' })
  @Max(50, { message: 'limit must be an integer between 1 and 50' })
  limit?: number = 20;
}

/** What a number can do. */
export class CapabilitiesDto {
  /** Voice calls. */
  voice: boolean;
  /** SMS. */
  sms: boolean;
  /** MMS. */
  mms: boolean;
}

/** A number Twilio offers for purchase. */
export class AvailableNumberDto {
  /** E.164 number. @example +14155550123 */
  phone_number: string;
  /** Formatted for people. @example (415) 555-0123 */
  friendly_name: string;
  /** City, when known. @example San Francisco */
  locality: string | null;
  /** State or province, when known. @example CA */
  region: string | null;
  /** Postal code, when known. @example "94103" */
  postal_code: string | null;
  /** ISO-3166 alpha-2 country. @example US */
  iso_country: string;
  /** What the number can do. */
  capabilities: CapabilitiesDto;
}

/** Result of a number search. */
export class SearchNumbersResponseDto {
  /** Matching numbers, at most `limit`. */
  numbers: AvailableNumberDto[];
}

/** Buy a number and point its webhooks at this service. */
export class PurchaseNumberDto {
  /**
   * The number to buy, in E.164 form (from a search).
   * @example +14155550123
   */
  @IsE164()
  phone_number: string;

  /**
   * Label for the number, up to 64 characters.
   * @example Samsaek Main Line
   */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  friendly_name?: string;

  /**
   * Base URL of this service's Twilio webhooks; Twilio gets `{webhook_url}/call`, `/sms` and `/status`.
   * Defaults to the configured SAMSAEK_TWILIO_WEBHOOK_URL.
   * @example https://yourdomain.com/api/phone/webhook
   */
  @IsOptional()
  @IsUrl(WEBHOOK_URL_OPTIONS, { message: 'webhook_url must be an http or https URL' })
  @MaxLength(2000)
  webhook_url?: string;
}

/** Change a number's label, webhook base URL and/or assistant. */
@AcceptsNull('assistant_id')
export class UpdateNumberDto {
  /**
   * New label, up to 64 characters.
   * @example Samsaek Support Line
   */
  @ValidateIf((_dto, value) => value !== undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  friendly_name?: string;

  /**
   * New webhook base URL; the voice, SMS and status URLs are derived from it again.
   * @example https://yourdomain.com/api/phone/webhook
   */
  @ValidateIf((_dto, value) => value !== undefined)
  @IsUrl(WEBHOOK_URL_OPTIONS, { message: 'webhook_url must be an http or https URL' })
  @MaxLength(2000)
  webhook_url?: string;

  /**
   * The assistant inbound calls and SMS to this number go to (an assistant id), or null to go back to the
   * configured greeting and auto-reply. Only stored here: Twilio is not asked.
   * @example 7d0f5c3e-2b1a-4e6f-9a8b-1c2d3e4f5a6b
   */
  @IsOptional()
  @IsUUID('all', { message: 'assistant_id must be an assistant id (a uuid) or null' })
  assistant_id?: string | null;
}

/** Path parameters naming one owned number. */
export class NumberSidParamsDto {
  /**
   * Twilio's IncomingPhoneNumber sid (PN followed by 32 hex characters). A sid we do not own is a 404.
   * @example PN0123456789abcdef0123456789abcdef
   */
  @ApiProperty({ pattern: SID_PARAM_PATTERN.source })
  @Matches(SID_PARAM_PATTERN, { message: 'sid must be 2 to 64 letters and digits' })
  sid: string;
}

/** Which numbers to list. */
export class ListNumbersQueryDto {
  /**
   * Numbers in this status: `active` (the default) lists the numbers this service owns; `purchasing` and
   * `unknown` list purchases Twilio has not confirmed, `failed` those Twilio never made, `released` numbers given back.
   */
  @IsOptional()
  @ApiProperty({ enum: NUMBER_STATUSES, enumName: 'NumberStatus', required: false, default: 'active' })
  @IsIn(NUMBER_STATUSES)
  status?: NumberStatus;
}

/** A number this service owns, owned, or is buying. */
export class PhoneNumberDto {
  /**
   * This service's id for the number, known before Twilio answers a purchase.
   * @example 3f6c2a9e-8d41-4b7a-9c55-1e2f3a4b5c6d
   */
  id: string;
  /**
   * Twilio's sid; null while Twilio has not confirmed the purchase (status `purchasing`, `unknown` or `failed`).
   * @example PN0123456789abcdef0123456789abcdef
   */
  sid: string | null;
  /**
   * `active`: owned; `purchasing`: Twilio is being asked to buy it; `unknown`: Twilio's answer to the purchase was lost
   * (timeout, dropped connection, Twilio error) and the next comparison with Twilio's list of owned numbers settles it
   * (`active` with its sid, or `failed` after RECONCILE_INTENT_WINDOW_SECONDS); `failed`: Twilio never bought it, nothing
   * was charged; `released`: given back to Twilio.
   */
  @ApiProperty({ enum: NUMBER_STATUSES, enumName: 'NumberStatus' })
  status: NumberStatus;
  /** E.164 number. @example +14155550123 */
  phone_number: string;
  /** Label (until Twilio confirms a purchase: the one asked for, or the number). @example Samsaek Main Line */
  friendly_name: string;
  /** What the number can do (all false until Twilio confirms a purchase). */
  capabilities: CapabilitiesDto;
  /** Where Twilio sends incoming calls. @example https://yourdomain.com/api/phone/webhook/call */
  voice_url: string | null;
  /** Where Twilio sends incoming SMS. @example https://yourdomain.com/api/phone/webhook/sms */
  sms_url: string | null;
  /** Where Twilio reports call status. @example https://yourdomain.com/api/phone/webhook/status */
  status_callback_url: string | null;
  /** The assistant inbound calls and SMS go to; null: the configured greeting and auto-reply. */
  assistant_id: string | null;
  /** JWT subject of who bought it through this service; null when bought elsewhere (e.g. the Twilio console). */
  purchased_by: string | null;
  /** When it was released; null while owned. */
  released_at: string | null;
  /** When this service first recorded it. @example 2026-11-24T12:00:00.000Z */
  created_at: string;
}

/** Numbers in one status. */
export class PhoneNumberListDto {
  /** Numbers in the status asked for (default: owned), newest first. */
  numbers: PhoneNumberDto[];
}
