import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional } from 'class-validator';
import { PageLimit, restorePlus } from '../common/history-query.dto';
import { IsE164 } from '../common/phone-number';

const TURN_ROLES = ['assistant', 'caller'] as const;

export class SmsConversationQueryDto {
  /** The other party's number (E.164, e.g. +14155550166; encode `+` as %2B). @example +14155550166 */
  @Transform(restorePlus)
  @IsE164()
  number: string;

  /** Only the conversation with this assistant number (E.164); all of ours when absent. @example +14155550188 */
  @IsOptional()
  @Transform(restorePlus)
  @IsE164()
  our_number?: string;

  /** How many of the latest turns, 1 to 500 (default 100). @example 100 */
  @PageLimit(500)
  limit?: number;
}

/** One turn of an SMS conversation. */
export class SmsTurnDto {
  /** `caller`: the other party's text; `assistant`: the agent's answer, sent as an SMS. */
  @ApiProperty({ enum: TURN_ROLES, enumName: 'SmsTurnRole' })
  role: (typeof TURN_ROLES)[number];
  /** @example Can I book a cleaning on Tuesday? */
  text: string;
  /** The SMS of the turn (the text received, or the reply sent); null while the reply is on its way. */
  message_sid: string | null;
  assistant_id: string;
  /** The assistant's number. @example +14155550188 */
  our_number: string;
  /** How long the agent took to answer this caller turn; null on the assistant's turns. */
  agent_latency_ms: number | null;
  at: Date;
}

/** The transcript of an SMS conversation with an assistant, oldest turn first. */
export class SmsConversationDto {
  /** @example +14155550166 */
  number: string;
  our_number: string | null;
  transcript: SmsTurnDto[];
}
