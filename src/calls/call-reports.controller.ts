import { Controller, Get, Param } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/auth.decorators';
import { Permission } from '../auth/permission';
import { ErrorResponseDto } from '../common/error-response.dto';
import { CallReportsService } from './call-reports.service';
import { CallReportDto, CallSidParamsDto } from './calls.dto';

@ApiTags('calls')
@Controller()
export class CallReportsController {
  constructor(private readonly reports: CallReportsService) {}

  /**
   * The end-of-call report: outcome, who ended the call, times, cost, recordings, timeline. A call in
   * flight answers 200 too, with `final` false; poll until `settled` (or wait for call.report.ready).
   */
  @Get('calls/:sid/report')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 200, type: CallReportDto, description: 'The report; `final` and `settled` say whether it can still change' })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'sid is not a call SID' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such call' })
  getCallReport(@Param() params: CallSidParamsDto): Promise<CallReportDto> {
    return this.reports.getReport(params.sid);
  }
}
