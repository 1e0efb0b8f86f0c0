import { ApiProperty, PickType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ApiExactlyOneOf } from '../common/api-schema-rule';
import { IsInstant } from '../common/instant';
import { HistoryQueryDto, PageLimit } from '../common/history-query.dto';
import { ApiMetadata, Metadata } from '../common/metadata';
import { IsE164 } from '../common/phone-number';
import { WEEKDAYS, type Weekday } from './calling-window';
import { CAMPAIGN_STATES, type CampaignState } from './campaign.entity';
import { SKIP_REASONS, type SkipReason } from './campaign-import';
import { RECIPIENT_STATES, type RecipientState } from './campaign-recipient.entity';

export const MAX_RECIPIENTS = 100_000;
export const RETRY_OUTCOMES = ['busy', 'no-answer', 'failed', 'canceled'] as const;
export type RetryOutcome = (typeof RETRY_OUTCOMES)[number];

/** Local hours when recipients may be reached, in each recipient's own time zone(s). */
export class CallingWindowDto {
  /**
   * Local start time, HH:MM (24 h).
   * @example 09:00
   */
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'calling_window.start must be HH:MM, 00:00 to 23:59' })
  start: string;

  /**
   * Local end time, HH:MM (24 h), after start; 24:00 is midnight at the end of the day.
   * @example 20:00
   */
  @Matches(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, { message: 'calling_window.end must be HH:MM, 00:01 to 24:00' })
  end: string;

  /** Days of the week (local) when recipients may be reached; every day when left out. */
  @ApiProperty({ enum: WEEKDAYS, isArray: true, required: false, example: ['mon', 'tue', 'wed', 'thu', 'fri'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(WEEKDAYS, { each: true })
  days?: Weekday[];
}

/** How fast the campaign places calls or messages. */
export class PacingDto {
  /**
   * Calls or messages placed per second at most, over any one-second window (1 to 100; default 1).
   * At most the account's rate, which all campaigns share (`CAMPAIGN_ACCOUNT_CALLS_PER_SECOND` or
   * `CAMPAIGN_ACCOUNT_SMS_PER_SECOND`, default 1): above it the campaign is refused with 400, and
   * campaigns running at once together never exceed it.
   * @example 1
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  per_second?: number;

  /**
   * Calls of this campaign in progress at once at most (1 to 1000; default 10). SMS campaigns ignore it.
   * @example 10
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  max_live?: number;
}

/** When a recipient is tried again. */
export class RetryDto {
  /** The outcomes that are tried again (calls: busy, no-answer, failed, canceled; SMS: failed). Default: none. */
  @ApiProperty({ enum: RETRY_OUTCOMES, enumName: 'CampaignRetryOutcome', isArray: true, required: false, example: ['busy', 'no-answer'] })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(RETRY_OUTCOMES, { each: true })
  on?: RetryOutcome[];

  /**
   * Attempts per recipient at most, the first included (1 to 10; default 3).
   * @example 3
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10)
  max_attempts?: number;

  /**
   * Seconds between the end of an attempt and the next (1 to 604800; default 600).
   * @example 600
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(604800)
  after_seconds?: number;
}

/** One recipient (validated row by row: a bad row is skipped with a reason in the import report). */
export class CampaignRecipientInputDto {
  /**
   * Number to reach, E.164.
   * @example +14155550100
   */
  to: string;

  /** Values for the `{{variables}}` of the content (strings or numbers). */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { first_name: 'Ann' } })
  variables?: Record<string, string>;

  /** Metadata put on this recipient's calls or messages (up to 18 keys; campaign_id and campaign_attempt_id are added). */
  @ApiProperty({ type: () => Metadata, required: false })
  metadata?: Record<string, string>;
}

/** Creates a campaign: one content for many recipients, paced, within calling hours, retried. */
@ApiExactlyOneOf('message', 'audio_url', 'twiml', 'assistant_id', 'sms_body')
export class CreateCampaignDto {
  /**
   * A name for people.
   * @example Appointment reminders, 8 December
   */
  @ApiProperty({ example: 'Appointment reminders, 8 December' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  /**
   * Text spoken to each callee (`<Say>`), with `{{variables}}`. Exactly one of message, audio_url, twiml, assistant_id
   * and sms_body.
   * @example Hello {{first_name}}, this is a reminder of your appointment tomorrow at {{time}}.
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  message?: string;

  /**
   * Public http(s) URL of audio played to each callee; `{{variables}}` are URL-encoded.
   * @example https://example.com/audio/reminder.mp3
   */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'audio_url must be an http(s) URL' })
  @MaxLength(2000)
  audio_url?: string;

  /**
   * TwiML run on each call, with `{{variables}}` (XML-escaped).
   * @example <Response><Say>Hello {{first_name}}</Say></Response>
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  twiml?: string;

  /**
   * Each call starts a conversation with this assistant (an id from /api/phone/assistants), as POST call with
   * `assistant_id` does. A recipient's `variables` join its call's metadata (with the recipient's `metadata`),
   * so the agent receives them with every turn; together at most 18 keys.
   * @example 7d0f5c3e-2b1a-4e6f-9a8b-1c2d3e4f5a6b
   */
  @IsOptional()
  @IsUUID('all', { message: 'assistant_id must be an assistant id (a uuid)' })
  assistant_id?: string;

  /**
   * Text sent as an SMS to each recipient, with `{{variables}}`: makes this an SMS campaign (`phone:sms`).
   * @example Hi {{first_name}}, your appointment is tomorrow at {{time}}. Reply STOP to opt out.
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(1600)
  sms_body?: string;

  /**
   * Caller IDs / senders, used in turn; defaults to the service's Twilio number.
   * @example ["+14155550199"]
   */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsE164({ each: true })
  from?: string[];

  /** Up to 100,000 recipients (or `recipients_csv`). */
  @ApiProperty({ type: [CampaignRecipientInputDto], required: false, maxItems: MAX_RECIPIENTS })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_RECIPIENTS)
  recipients?: unknown[];

  /**
   * The recipients as CSV text instead: a header row with `to` and one column per variable.
   * @example "to,first_name,time\n+14155550100,Ann,10:30\n"
   */
  @IsOptional()
  @IsString()
  @MaxLength(20_000_000)
  recipients_csv?: string;

  /**
   * When the campaign may start (ISO 8601); now when left out.
   * @example 2026-12-08T09:00:00Z
   */
  @ApiProperty({ format: 'date-time', required: false })
  @IsOptional()
  @IsInstant()
  start_at?: string;

  /** Calling hours in each recipient's local time; 09:00 to 20:00 every day when left out. */
  @IsOptional()
  @ValidateNested()
  @Type(() => CallingWindowDto)
  calling_window?: CallingWindowDto;

  /** Pacing; 1 per second and 10 live calls when left out. */
  @IsOptional()
  @ValidateNested()
  @Type(() => PacingDto)
  pacing?: PacingDto;

  /** Retries; none when left out. */
  @IsOptional()
  @ValidateNested()
  @Type(() => RetryDto)
  retry?: RetryDto;
}

export class CreateCampaignQueryDto {
  /** Validate and estimate only: answers the import report and the cost, creates nothing. */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'dry_run must be true or false' })
  dry_run?: boolean;
}

export class SkippedRecipientDto {
  /** Row number in the import, from 0. */
  row: number;
  to: string;
  /** Why the row was skipped. @example invalid_number */
  @ApiProperty({ enum: SKIP_REASONS, enumName: 'CampaignSkipReason' })
  reason: SkipReason;
  message: string;
}

/** What the import made of the recipients. */
export class ImportReportDto {
  total: number;
  accepted: number;
  skipped: number;
  /** Skipped recipients by reason. */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { invalid_number: 2, duplicate: 1 } })
  skipped_by_reason: Record<string, number>;
  /** The first 1,000 skipped rows (all of them are listed by GET recipients?state=skipped). */
  skipped_rows: SkippedRecipientDto[];
}

/** Estimated cost from the configured pricing table (USD). */
export class CampaignEstimateDto {
  /** One attempt per accepted recipient. */
  @ApiProperty({ example: '0.28000' })
  first_attempts: string;
  /** Every retry taken as well. */
  @ApiProperty({ example: '0.84000' })
  with_all_retries: string;
  currency: string;
}

export class CampaignDryRunDto {
  import_report: ImportReportDto;
  estimated_cost: CampaignEstimateDto;
}

export class RecipientCountsDto {
  pending: number;
  scheduled: number;
  in_progress: number;
  completed: number;
  failed: number;
  skipped: number;
  retrying: number;
}

export class CallingWindowOutDto {
  start: string;
  end: string;
  @ApiProperty({ enum: WEEKDAYS, isArray: true })
  days: Weekday[];
}

export class PacingOutDto {
  per_second: number;
  max_live: number;
}

export class RetryOutDto {
  /** The outcomes that are tried again. */
  @ApiProperty({ enum: RETRY_OUTCOMES, enumName: 'CampaignRetryOutcome', isArray: true })
  on: string[];
  max_attempts: number;
  after_seconds: number;
}

export class CampaignSpendDto {
  /** Prices Twilio reported for the campaign's calls or messages. */
  @ApiProperty({ example: '0.14000' })
  priced: string;
  /** Attempts placed, and those Twilio has not priced yet. */
  attempts: number;
  unpriced_attempts: number;
  currency: string;
}

export class CampaignDto {
  id: string;
  name: string;
  @ApiProperty({ enum: ['call', 'sms'] })
  channel: 'call' | 'sms';
  /** Where the campaign is: scheduled, running, paused, completed or canceled. */
  @ApiProperty({ enum: CAMPAIGN_STATES, enumName: 'CampaignState' })
  state: CampaignState;
  /** Why it is paused: by a user, or by itself at the daily spending ceiling. */
  paused_reason: string | null;
  message: string | null;
  audio_url: string | null;
  twiml: string | null;
  /** The assistant each call talks with. */
  assistant_id: string | null;
  sms_body: string | null;
  from: string[];
  start_at: Date;
  calling_window: CallingWindowOutDto;
  pacing: PacingOutDto;
  retry: RetryOutDto;
  import_report: ImportReportDto;
  counts: RecipientCountsDto;
  spend: CampaignSpendDto;
  /** Expected end at the recent pace (or the configured one before any attempt); null when finished. */
  eta: Date | null;
  created_by: string;
  started_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export class CampaignListItemDto {
  id: string;
  name: string;
  @ApiProperty({ enum: ['call', 'sms'] })
  channel: 'call' | 'sms';
  /** Where the campaign is: scheduled, running, paused, completed or canceled. */
  @ApiProperty({ enum: CAMPAIGN_STATES, enumName: 'CampaignState' })
  state: CampaignState;
  paused_reason: string | null;
  start_at: Date;
  created_at: Date;
}

export class CampaignListDto {
  campaigns: CampaignListItemDto[];
  next_cursor: string | null;
}

/** Paging as the call and message histories page. */
export class CampaignListQueryDto extends PickType(HistoryQueryDto, ['limit', 'cursor'] as const) {
  @ApiProperty({ enum: CAMPAIGN_STATES, enumName: 'CampaignState', required: false })
  @IsOptional()
  @IsIn(CAMPAIGN_STATES)
  state?: CampaignState;
}

export class CampaignAttemptDto {
  attempt: number;
  /** The call's or message's record id. */
  record_id: string | null;
  /** The call sid (CA...) or message sid (SM...). */
  sid: string | null;
  status: string | null;
  outcome: string | null;
  error: string | null;
  requested_at: Date | null;
  ended_at: Date | null;
  @ApiProperty({ type: String, nullable: true, example: '0.01400' })
  price: string | null;
}

export class CampaignRecipientDto {
  id: string;
  /** Row number in the import, from 0. */
  position: number;
  to: string;
  /** Where this recipient is (see the campaign's counts by state). */
  @ApiProperty({ enum: RECIPIENT_STATES, enumName: 'CampaignRecipientState' })
  state: RecipientState;
  skip_reason: string | null;
  skip_message: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  variables: Record<string, string>;
  /** The recipient's labels, given to each of its calls or messages. */
  @ApiMetadata()
  metadata: Metadata;
  time_zones: string[];
  next_attempt_at: Date | null;
  last_outcome: string | null;
  attempts: CampaignAttemptDto[];
}

export class CampaignRecipientListDto {
  recipients: CampaignRecipientDto[];
  next_cursor: string | null;
}

/** The histories' cursor; pages of up to 500, since a campaign's recipients are read in bulk. */
export class CampaignRecipientQueryDto extends PickType(HistoryQueryDto, ['cursor'] as const) {
  /**
   * Page size, 1 to 500 (default 100).
   * @example 100
   */
  @PageLimit(500)
  limit?: number;

  @ApiProperty({ enum: RECIPIENT_STATES, enumName: 'CampaignRecipientState', required: false })
  @IsOptional()
  @IsIn(RECIPIENT_STATES)
  state?: RecipientState;
}

export class CampaignIdParamsDto {
  /** The campaign id. */
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, { message: 'id must be a campaign id' })
  id: string;
}
