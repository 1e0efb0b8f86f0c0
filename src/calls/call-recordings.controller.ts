import { Controller, Get, Param } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/auth.decorators';
import { Permission } from '../auth/permission';
import { ErrorResponseDto } from '../common/error-response.dto';
import { CallRecordingsService } from './call-recordings.service';
import { CallSidParamsDto, RecordingListDto } from './calls.dto';

@ApiTags('calls')
@Controller()
export class CallRecordingsController {
  constructor(private readonly recordings: CallRecordingsService) {}

  /** Recordings of a call (record=true calls and voicemails), as Twilio reported them, oldest first. */
  @Get('calls/:sid/recordings')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'sid is not a call SID' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such call' })
  listCallRecordings(@Param() params: CallSidParamsDto): Promise<RecordingListDto> {
    return this.recordings.listRecordings(params.sid);
  }
}
