import { HttpStatus, Injectable } from '@nestjs/common';
import { CallRecordsService } from '../calls/call-records.service';
import { AppError } from '../common/app-error';
import { TwilioGateway } from '../twilio/twilio.gateway';
import type { RecordingFormat, RecordingMedia } from '../twilio/twilio.types';

/** Statuses of a recording that has no audio, and never will. */
const WITHOUT_AUDIO = ['absent', 'failed', 'deleted'];
/** Byte ranges as RFC 9110 writes them; anything else is ignored, as the RFC says. */
const BYTE_RANGES = /^bytes=\s*(\d+-\d*|-\d+)(\s*,\s*(\d+-\d*|-\d+))*\s*$/;

/**
 * Recording audio for clients that hold our token and not Twilio's credentials: only recordings we
 * store (the calls module's), fetched from Twilio with the service's credentials and streamed on.
 */
@Injectable()
export class RecordingsService {
  constructor(
    private readonly calls: CallRecordsService,
    private readonly twilio: TwilioGateway,
  ) {}

  /** Opens the audio of recording `sid`: the stream with its headers. `range` is the client's Range header. */
  async openAudio(sid: string, format: RecordingFormat, options: { range?: string; signal?: AbortSignal } = {}): Promise<RecordingMedia> {
    const recording = await this.calls.findRecording(sid);
    if (!recording) throw AppError.notFound('Recording', sid);
    if (WITHOUT_AUDIO.includes(recording.status)) {
      throw new AppError(HttpStatus.NOT_FOUND, 'not_found', `Recording ${sid} has no audio (status ${recording.status})`);
    }
    const range = options.range !== undefined && BYTE_RANGES.test(options.range) ? options.range : undefined;
    const media = await this.twilio.fetchRecordingMedia(sid, format, { range, signal: options.signal });
    if (media.status === 416) {
      const size = /\/(\d+)$/.exec(media.contentRange ?? '')?.[1];
      throw new AppError(
        HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
        'range_not_satisfiable',
        `Range ${options.range} is outside recording ${sid}${size ? ` (${size} bytes as ${format})` : ''}`,
      );
    }
    return media;
  }
}
