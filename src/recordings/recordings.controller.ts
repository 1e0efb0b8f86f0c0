import { Controller, Get, Param, Query, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequirePermission } from '../auth/auth.decorators';
import { Permission } from '../auth/permission';
import { ApiTwilioErrors } from '../common/api-twilio-errors.decorator';
import { errorResponseBody } from '../common/all-exceptions.filter';
import { ErrorResponseDto } from '../common/error-response.dto';
import { appLogger } from '../common/logger';
import { requestIdOf } from '../common/request-id.middleware';
import { TwilioGatewayError } from '../twilio/twilio.errors';
import type { RecordingFormat } from '../twilio/twilio.types';
import { RecordingAudioQueryDto, RecordingSidParamsDto } from './recordings.dto';
import { RecordingsService } from './recordings.service';

const AUDIO = { schema: { type: 'string', format: 'binary' } };
const AUDIO_CONTENT = { 'audio/x-wav': AUDIO, 'audio/mpeg': AUDIO };
const MEDIA_HEADERS = {
  'Content-Length': { description: 'Bytes in this answer, when Twilio said', schema: { type: 'integer' } },
  'Accept-Ranges': { description: '`bytes` when Twilio serves byte ranges (seeking)', schema: { type: 'string' } },
};
/** Which Accept types ask for which format; WAV first, so wildcards get the default. */
const ACCEPTED: Record<string, RecordingFormat> = {
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
};

@ApiTags('calls')
@Controller()
export class RecordingsController {
  constructor(private readonly recordings: RecordingsService) {}

  /**
   * A recording's audio, streamed from Twilio with the service's credentials: a client needs only its
   * bearer token. WAV by default; MP3 with `?format=mp3` or `Accept: audio/mpeg`. A `Range` header is
   * passed on, so players can seek (206) where Twilio serves byte ranges.
   */
  @Get('recordings/:sid/audio')
  @RequirePermission(Permission.View)
  @ApiHeader({ name: 'Range', required: false, description: 'A byte range, e.g. `bytes=0-` (passed on to Twilio)' })
  @ApiResponse({
    status: 200,
    description: 'The whole recording (Content-Type audio/x-wav or audio/mpeg)',
    content: AUDIO_CONTENT,
    headers: MEDIA_HEADERS,
  })
  @ApiResponse({
    status: 206,
    description: 'The byte range asked for',
    content: AUDIO_CONTENT,
    headers: { ...MEDIA_HEADERS, 'Content-Range': { description: 'e.g. `bytes 0-1023/64044`', schema: { type: 'string' } } },
  })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'sid is not a recording SID, or format is neither wav nor mp3' })
  @ApiResponse({
    status: 404,
    type: ErrorResponseDto,
    description: 'No such recording, one without audio (absent or failed), or Twilio no longer has its media',
  })
  @ApiResponse({ status: 416, type: ErrorResponseDto, description: 'The Range lies outside the file (code range_not_satisfiable)' })
  @ApiTwilioErrors()
  async getRecordingAudio(
    @Param() params: RecordingSidParamsDto,
    @Query() query: RecordingAudioQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const format = query.format ?? formatAccepted(req);
    const download = new AbortController();
    res.once('close', () => download.abort());
    const media = await this.recordings.openAudio(params.sid, format, { range: req.header('range'), signal: download.signal });
    res.status(media.status);
    if (media.contentRange) res.setHeader('Content-Range', media.contentRange);
    if (media.acceptRanges) res.setHeader('Accept-Ranges', media.acceptRanges);
    return new StreamableFile(media.body, {
      type: media.contentType,
      length: media.contentLength ?? undefined,
      disposition: `inline; filename="${params.sid}.${format}"`,
    }).setErrorHandler((error, response) => streamFailed(error, response as Response, params.sid));
  }
}

function formatAccepted(req: Request): RecordingFormat {
  const best = req.accepts(Object.keys(ACCEPTED));
  return best ? ACCEPTED[best] : 'wav';
}

/** Twilio's stream broke: before the first byte the client gets our 502; after it, a cut connection (never a short file that looks whole). */
function streamFailed(error: Error, res: Response, sid: string): void {
  appLogger().event('warn', 'recording_stream_failed', { recording_sid: sid, error: error.message });
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const failure = new TwilioGatewayError('unavailable', `Twilio's audio of recording ${sid} broke off`);
  res.removeHeader('Content-Disposition');
  res.status(failure.status).json(errorResponseBody(failure, requestIdOf(res.req)));
}
