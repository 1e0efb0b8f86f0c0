import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ApiMetadata, IsMetadata, Metadata } from '../common/metadata';
import { AcceptsNull } from '../common/nullable';
import { IsE164 } from '../common/phone-number';
import { IsXmlText } from '../common/xml-text';

const VOICE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const LANGUAGE_PATTERN = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$/;

/** How the assistant listens (Twilio `<Gather input="speech dtmf">`). */
export class AssistantSpeechInputDto {
  /**
   * Words and phrases the recognizer should expect (Gather `hints`), up to 100 of at most 100 characters.
   * @example ["appointment", "reschedule", "Tuesday"]
   */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(100, { each: true })
  hints?: string[];

  /** Seconds to wait for the caller to start speaking or pressing keys (Gather `timeout`, default 5). @example 5 */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(60)
  timeout?: number;

  /**
   * When an utterance has ended: `auto` (default), or seconds of silence as a string, e.g. "2" (Gather `speechTimeout`).
   * @example auto
   */
  @IsOptional()
  @IsString()
  @Matches(/^(auto|[1-9]|[1-5][0-9]|60)$/, {
    message: 'speech.speech_timeout must be "auto" or a number of seconds from 1 to 60, as a string',
  })
  speech_timeout?: string;

  /** Replace profanities with asterisks in what is heard (Gather `profanityFilter`, default true). @example true */
  @IsOptional()
  @IsBoolean()
  profanity_filter?: boolean;

  /**
   * Twilio's speech model (Gather `speechModel`), e.g. `phone_call`, `experimental_conversations`,
   * `googlev2_telephony`, `deepgram_nova-2`; Twilio's default when not set.
   * @example phone_call
   */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'speech.speech_model must be a Twilio speech model name such as phone_call' })
  speech_model?: string;
}

/** When a conversation ends on its own. */
export class AssistantLimitsInputDto {
  /** Turns (caller inputs, silences included) after which the call ends politely (default 50). @example 20 */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(500)
  max_turns?: number;

  /** Seconds after the start of the conversation after which it ends politely (default 1800). @example 600 */
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(14400)
  max_duration_seconds?: number;

  /** Silent turns in a row after which the call ends politely (default 3). @example 2 */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(20)
  silence_limit?: number;
}

/** Fields an assistant is created or changed with. */
export class AssistantFieldsDto {
  /**
   * Spoken when an outbound call (POST call with `assistant_id`) is answered, before the assistant listens.
   * `{{key}}` placeholders are filled from the call's `metadata` (a campaign puts each recipient's
   * variables there); a key the call does not carry is left out.
   * @example Hi {{first_name}}, this is Sam from Bright Dental, calling about your appointment.
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  @IsXmlText()
  first_message?: string | null;

  /**
   * Spoken when an inbound call to one of the assistant's numbers is answered, before it listens.
   * @example Bright Dental, this is Sam. How can I help?
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  @IsXmlText()
  greeting?: string | null;

  /** Text-to-speech voice (alice, man, woman, Polly.*, Google.*; default alice). @example Polly.Joanna */
  @IsOptional()
  @IsString()
  @Matches(VOICE_PATTERN, { message: 'voice must be a Twilio voice name such as alice or Polly.Joanna' })
  voice?: string;

  /** Language spoken and listened for, a BCP 47 tag (default en-US). @example en-US */
  @IsOptional()
  @IsString()
  @Matches(LANGUAGE_PATTERN, { message: 'language must be a language tag such as en-US or en' })
  @MaxLength(16)
  language?: string;

  /** How the assistant listens. */
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AssistantSpeechInputDto)
  speech?: AssistantSpeechInputDto;

  /** When a conversation ends on its own. */
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AssistantLimitsInputDto)
  limits?: AssistantLimitsInputDto;

  /**
   * When the caller says one of these (case and punctuation ignored, anywhere in the utterance), the call ends
   * politely without asking the agent. Up to 20 phrases.
   * @example ["goodbye", "that is all"]
   */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(200, { each: true })
  end_phrases?: string[];

  /** Where the agent's `transfer: true` connects the caller, in E.164 form. @example +14155550111 */
  @IsOptional()
  @IsE164()
  transfer_number?: string | null;

  /**
   * What the assistant leaves on an answering machine (voicemail drop).
   * @example Hi, this is Bright Dental about your appointment. Please call us back at 415 555 0111.
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  @IsXmlText()
  voicemail_message?: string | null;

  /**
   * Your own labels for the assistant (up to 20 keys of at most 40 characters, string values of at most 500); sent with every turn.
   * @example {"tenant_id": "bright-dental"}
   */
  @IsOptional()
  @IsMetadata()
  metadata?: Metadata;
}

/** Creates an assistant. */
export class CreateAssistantDto extends AssistantFieldsDto {
  /** A name to know it by. */
  @ApiProperty({ example: 'Appointment desk' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  /**
   * Where each turn is POSTed as signed JSON: an http(s) URL on a public address.
   * @example https://agents.example.com/appointments
   */
  @IsString()
  @MaxLength(2000)
  agent_url: string;
}

/** Changes an assistant; send only what changes (`speech` and `limits` are merged), `null` clears a message or the transfer number. */
@AcceptsNull('first_message', 'greeting', 'transfer_number', 'voicemail_message')
export class UpdateAssistantDto extends AssistantFieldsDto {
  /** New name. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  /** New agent URL (same rules as on creation). */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  agent_url?: string;
}

export class AssistantIdParamsDto {
  /** The assistant's id. */
  @IsUUID('all', { message: 'id must be an assistant id (a uuid)' })
  id: string;
}

/** How the assistant listens. */
export class AssistantSpeechDto {
  /** @example ["appointment", "reschedule"] */
  hints: string[];
  /** @example 5 */
  timeout: number;
  /** @example auto */
  speech_timeout: string;
  /** @example true */
  profanity_filter: boolean;
  /** Null: Twilio's default. @example null */
  speech_model: string | null;
}

/** When a conversation ends on its own. */
export class AssistantLimitsDto {
  /** @example 50 */
  max_turns: number;
  /** @example 1800 */
  max_duration_seconds: number;
  /** @example 3 */
  silence_limit: number;
}

/** An assistant (its secret is shown only when created or rotated). */
export class AssistantDto {
  /** @example 7d0f5c3e-2b1a-4e6f-9a8b-1c2d3e4f5a6b */
  id: string;
  /** @example Appointment desk */
  name: string;
  /** @example https://agents.example.com/appointments */
  agent_url: string;
  first_message: string | null;
  greeting: string | null;
  /** @example alice */
  voice: string;
  /** @example en-US */
  language: string;
  speech: AssistantSpeechDto;
  limits: AssistantLimitsDto;
  end_phrases: string[];
  /** @example +14155550111 */
  transfer_number: string | null;
  voicemail_message: string | null;
  /** Your own labels for the assistant, sent with every turn. */
  @ApiMetadata()
  metadata: Metadata;
  /** Until when the secret before the last rotation still signs; null when it does not. */
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** An assistant with its signing secret: the only time the secret is shown. */
export class AssistantWithSecretDto extends AssistantDto {
  /**
   * Standard Webhooks secret: the agent verifies each turn's `webhook-signature` with it.
   * @example "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
   */
  @ApiProperty({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$' })
  secret: string;
}

export class AssistantListDto {
  assistants: AssistantDto[];
}
