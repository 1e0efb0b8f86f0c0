import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';

/** Register a URL to be told about events. */
export class CreateEventEndpointDto {
  /**
   * Where events are POSTed: an http(s) URL on a public address.
   * @example "https://platform.example.com/hooks/phone"
   */
  @IsString()
  @MaxLength(2000)
  url: string;

  /**
   * Event types to receive, or `["*"]` for all of them.
   * @example ["call.completed", "sms.received"]
   */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  event_types: string[];

  /** What the endpoint is for. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  /** Whether events are sent to it (default true). */
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** Change an endpoint; send only what changes. */
export class UpdateEventEndpointDto {
  /** New URL (same rules as on creation). */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  url?: string;

  /** New event types, or `["*"]`. */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  event_types?: string[];

  /** Enable or disable deliveries; enabling clears the reason the service disabled it. */
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** New description. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

export class EventEndpointIdParamsDto {
  /** The endpoint's id. */
  @IsUUID('all', { message: 'id must be an endpoint id (a uuid)' })
  id: string;
}

/** An event endpoint (its secret is shown only when created or rotated). */
export class EventEndpointDto {
  /** @example "3f1c2a4e-8d9b-4c1a-9f0e-2b7d6c5a4e3f" */
  id: string;
  url: string;
  event_types: string[];
  description: string | null;
  enabled: boolean;
  /** Why the service disabled the endpoint (every delivery failing); null otherwise. */
  disabled_reason: string | null;
  /** Failed attempts in a row since the last delivered one. */
  consecutive_failures: number;
  /** Until when the secret before the last rotation still signs; null when it does not. */
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** An endpoint with its signing secret: the only time the secret is shown. */
export class EventEndpointWithSecretDto extends EventEndpointDto {
  /**
   * Standard Webhooks secret: verify each delivery's `webhook-signature` with it.
   * @example "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
   */
  @ApiProperty({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$' })
  secret: string;
}

export class EventEndpointListDto {
  endpoints: EventEndpointDto[];
}
