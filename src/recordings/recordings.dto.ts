import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { SID_PARAM_PATTERN } from '../common/sid-param';
import type { RecordingFormat } from '../twilio/twilio.types';

export const RECORDING_FORMATS: readonly RecordingFormat[] = ['wav', 'mp3'];

export class RecordingSidParamsDto {
  /**
   * Twilio recording SID (RE followed by 32 hex characters), as GET /api/phone/calls/{sid}/recordings
   * lists it. One we do not know, well-formed or not, is a 404.
   * @example RE0123456789abcdef0123456789abcdef
   */
  @ApiProperty({ pattern: SID_PARAM_PATTERN.source })
  @Matches(SID_PARAM_PATTERN, { message: 'sid must be a Twilio sid (2 to 64 letters and digits)' })
  sid: string;
}

export class RecordingAudioQueryDto {
  /**
   * `wav` (the default) or `mp3`. Without it, an Accept header naming `audio/mpeg` (preferred over
   * the WAV types) asks for MP3.
   */
  @ApiProperty({ enum: RECORDING_FORMATS, enumName: 'RecordingFormat', required: false })
  @IsOptional()
  @IsIn(RECORDING_FORMATS)
  format?: RecordingFormat;
}
