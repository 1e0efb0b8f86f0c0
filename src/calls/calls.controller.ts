import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/auth.decorators';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/authenticated-user';
import { Permission } from '../auth/permission';
import { ErrorResponseDto } from '../common/error-response.dto';
import { RateLimit } from '../throttling/rate-limit.guard';
import { CallDto, CallHistoryDto, CallHistoryQueryDto, CallSidParamsDto, PlaceCallDto } from './calls.dto';
import { CallsService } from './calls.service';

@ApiTags('calls')
@Controller('api/phone')
export class CallsController {
  constructor(private readonly calls: CallsService) {}

  /** Places an outbound call that speaks a message, plays an audio file or runs TwiML. */
  @Post('call')
  @RequirePermission(Permission.Call)
  @RateLimit('calls')
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid request, opted-out recipient, or Twilio refused the call' })
  @ApiResponse({ status: 402, type: ErrorResponseDto, description: 'The Twilio account has insufficient funds' })
  @ApiResponse({
    status: 429,
    type: ErrorResponseDto,
    description: 'This caller sent too many requests in the rate-limit window (code rate_limited), or Twilio\'s rate limit was reached',
    headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
  })
  @ApiResponse({ status: 502, type: ErrorResponseDto, description: 'Twilio failed or rejected the service credentials' })
  @ApiResponse({ status: 504, type: ErrorResponseDto, description: 'Twilio did not answer in time' })
  placeCall(@Body() body: PlaceCallDto, @CurrentUser() user: AuthenticatedUser): Promise<CallDto> {
    return this.calls.placeCall(body, user.sub);
  }

  /** Lists calls, newest first, with filters and cursor paging. */
  @Get('calls/history')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid filter or cursor' })
  getCallHistory(@Query() query: CallHistoryQueryDto): Promise<CallHistoryDto> {
    return this.calls.getCallHistory(query);
  }

  /** One call with its status timeline; refreshed from Twilio when it is in flight and not heard of recently. */
  @Get('calls/:sid')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'sid is not a call SID' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such call' })
  getCall(@Param() params: CallSidParamsDto): Promise<CallDto> {
    return this.calls.getCall(params.sid);
  }

  /** Ends a call: hangs up an answered call, cancels one that is still queued or ringing. */
  @Post('calls/:sid/hangup')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Call)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'sid is not a call SID' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such call' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The call has already ended (code call_already_ended)' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'Twilio rate limit reached' })
  @ApiResponse({ status: 502, type: ErrorResponseDto, description: 'Twilio failed' })
  @ApiResponse({ status: 504, type: ErrorResponseDto, description: 'Twilio did not answer in time' })
  hangupCall(@Param() params: CallSidParamsDto): Promise<CallDto> {
    return this.calls.hangupCall(params.sid);
  }
}
