import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsInstant } from './instant';
import { IsE164 } from './phone-number';

export const DIRECTIONS = ['inbound', 'outbound'] as const;
type Direction = (typeof DIRECTIONS)[number];

/** In a query string an unencoded `+` arrives as a space; give E.164 numbers their `+` back. */
export function restorePlus({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && /^ \d/.test(value) ? `+${value.slice(1)}` : value;
}

/**
 * An optional page size in a query string, 1 to `max`: a number once validated, documented as an
 * integer within those bounds (the description and example come from the property's comment).
 */
export function PageLimit(max: number): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ required: false, type: 'integer', minimum: 1, maximum: max }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(max),
  );
}

/** Paging and the filters that call and message histories share. */
export class HistoryQueryDto {
  /**
   * Page size, 1 to 100 (default 20).
   * @example 20
   */
  @PageLimit(100)
  limit?: number;

  /** The `next_cursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  /** Only inbound, or only outbound, records. */
  @ApiProperty({ enum: DIRECTIONS, enumName: 'Direction', required: false })
  @IsOptional()
  @IsIn(DIRECTIONS)
  direction?: Direction;

  /** Only records to this number (E.164, e.g. +14155550100; encode `+` as %2B). */
  @IsOptional()
  @Transform(restorePlus)
  @IsE164()
  to?: string;

  /** Only records from this number (E.164, e.g. +14155550199; encode `+` as %2B). */
  @IsOptional()
  @Transform(restorePlus)
  @IsE164()
  from?: string;

  /** Only records made for this agent, e.g. Samsaek Assistant. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  agent_name?: string;

  /** Only records created at or after this ISO 8601 date-time, e.g. 2025-01-01T00:00:00Z. */
  @ApiProperty({ format: 'date-time', required: false })
  @IsOptional()
  @IsInstant()
  since?: string;

  /** Only records created before this ISO 8601 date-time, e.g. 2025-02-01T00:00:00Z. */
  @ApiProperty({ format: 'date-time', required: false })
  @IsOptional()
  @IsInstant()
  until?: string;
}
