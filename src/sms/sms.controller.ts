import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/auth.decorators';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/authenticated-user';
import { Permission } from '../auth/permission';
import { ApiTwilioErrors } from '../common/api-twilio-errors.decorator';
import { ErrorResponseDto } from '../common/error-response.dto';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { RateLimit } from '../throttling/rate-limit.guard';
import { MessageDto, MessageHistoryDto, MessageSidParamsDto, SendSmsDto, SmsHistoryQueryDto } from './sms.dto';
import { SmsService } from './sms.service';

@ApiTags('sms')
@Controller()
export class SmsController {
  constructor(private readonly sms: SmsService) {}

  /** Sends an SMS, or an MMS when media is attached. */
  @Post('sms')
  @RequirePermission(Permission.Sms)
  @RateLimit('sms')
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid request, opted-out recipient, or Twilio refused the message' })
  @ApiTwilioErrors({ charges: true, spendingLimit: true, rateLimited: true })
  @Idempotent()
  sendSms(@Body() body: SendSmsDto, @CurrentUser() user: AuthenticatedUser): Promise<MessageDto> {
    return this.sms.sendSms(body, user.sub);
  }

  /** Lists messages, newest first, with filters and cursor paging. */
  @Get('sms/history')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid filter or cursor' })
  getSmsHistory(@Query() query: SmsHistoryQueryDto): Promise<MessageHistoryDto> {
    return this.sms.getSmsHistory(query);
  }

  /** One message with its status timeline; refreshed from Twilio when it is in flight and not heard of recently. */
  @Get('sms/:sid')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'sid is not a message SID' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such message' })
  getSms(@Param() params: MessageSidParamsDto): Promise<MessageDto> {
    return this.sms.getSms(params.sid);
  }
}
