import { Body, Controller, Get, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import type { JsonText } from '../common/json-columns';
import { JsonTextResponse } from '../common/json-text-response.decorator';
import type { Response } from 'express';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/auth.decorators';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/authenticated-user';
import { Permission } from '../auth/permission';
import { ApiTwilioErrors } from '../common/api-twilio-errors.decorator';
import { ErrorResponseDto } from '../common/error-response.dto';
import { SERVER_TIMING_HEADER_DOC } from '../common/server-timing';
import { ApiMetadataFilter } from '../common/metadata';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { RateLimit } from '../throttling/rate-limit.guard';
import { MessageDto, MessageHistoryDto, MessageSidParamsDto, SendSmsDto, SmsHistoryQueryDto } from './sms.dto';
import { SmsService } from './sms.service';

const ACCEPTED_MESSAGE =
  "Twilio's answer is not stored yet: status `unknown` (Twilio did not answer in time or failed; sid null) " +
  'or Twilio took the message and its record is completed shortly. Look the message up by `id`; do not send it again.';

@ApiTags('sms')
@Controller()
export class SmsController {
  constructor(private readonly sms: SmsService) {}

  /** Sends an SMS, or an MMS when media is attached. */
  @Post('sms')
  @RequirePermission(Permission.Sms)
  @RateLimit('sms')
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid request, opted-out recipient, or Twilio refused the message' })
  @ApiResponse({
    status: 201,
    type: MessageDto,
    description: 'Twilio took the message; the record is stored',
    headers: SERVER_TIMING_HEADER_DOC,
  })
  @ApiResponse({ status: 202, type: MessageDto, description: ACCEPTED_MESSAGE, headers: SERVER_TIMING_HEADER_DOC })
  @ApiTwilioErrors({ charges: true, spendingLimit: true, rateLimited: true, intent: true })
  @Idempotent()
  async sendSms(
    @Body() body: SendSmsDto,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageDto> {
    const { message, accepted } = await this.sms.sendSms(body, user.sub);
    if (accepted) res.status(HttpStatus.ACCEPTED);
    return message;
  }

  /** Lists messages, newest first, with filters and cursor paging. */
  @Get('sms/history')
  @ApiMetadataFilter('messages')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid filter or cursor' })
  @JsonTextResponse(MessageHistoryDto)
  getSmsHistory(@Query() query: SmsHistoryQueryDto): Promise<JsonText<MessageHistoryDto>> {
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
