import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import type { JsonText } from '../common/json-columns';
import { JsonTextResponse } from '../common/json-text-response.decorator';
import type { Response } from 'express';
import { ApiBody, ApiResponse, ApiTags } from '@nestjs/swagger';
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
import { CallDto, CallHistoryDto, CallHistoryQueryDto, CallSidParamsDto, PlaceCallDto, SayOnCallDto, TransferCallDto } from './calls.dto';
import { CallsService } from './calls.service';

const ACCEPTED_CALL =
  "Twilio's answer is not stored yet: status `unknown` (Twilio did not answer in time or failed; sid null) " +
  'or Twilio placed the call and its record is completed shortly. Look the call up by `id`; do not place it again.';

const ENDING_CALL =
  'Twilio ended the call (`status` says how) but the record could not be updated yet; its callbacks or reconciliation ' +
  'update it shortly. Do not hang up again.';

/** One complete body per way of placing a call (Swagger UI offers them in "Try it out"). */
const PLACE_CALL_EXAMPLES = {
  message: {
    summary: 'Speak a message',
    value: {
      to: '+14155550100',
      message: 'Hello! This is Samsaek AI Assistant calling.',
      voice: 'alice',
      language: 'en-US',
      metadata: { conversation_id: 'conv_8f2a1c' },
    },
  },
  audio_url: { summary: 'Play an audio file', value: { to: '+14155550100', audio_url: 'https://example.com/audio/welcome.mp3' } },
  assistant_id: {
    summary: 'Start a conversation with an assistant',
    value: { to: '+14155550100', assistant_id: '7d0f5c3e-2b1a-4e6f-9a8b-1c2d3e4f5a6b', metadata: { conversation_id: 'conv_8f2a1c' } },
  },
  twiml: {
    summary: 'Run TwiML',
    value: { to: '+14155550100', twiml: '<Response><Say voice="alice">How can I help you today?</Say></Response>' },
  },
};

@ApiTags('calls')
@Controller()
export class CallsController {
  constructor(private readonly calls: CallsService) {}

  /** Places an outbound call that speaks a message, plays an audio file, runs TwiML, or starts an assistant's conversation. */
  @Post('call')
  @RequirePermission(Permission.Call)
  @RateLimit('calls')
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid request, opted-out recipient, or Twilio refused the call' })
  @ApiResponse({
    status: 201,
    type: CallDto,
    description: 'Twilio placed the call; the record is stored',
    headers: SERVER_TIMING_HEADER_DOC,
  })
  @ApiResponse({ status: 202, type: CallDto, description: ACCEPTED_CALL, headers: SERVER_TIMING_HEADER_DOC })
  @ApiTwilioErrors({ charges: true, spendingLimit: true, rateLimited: true, liveCalls: true, intent: true })
  @ApiBody({ type: PlaceCallDto, examples: PLACE_CALL_EXAMPLES })
  @Idempotent()
  async placeCall(
    @Body() body: PlaceCallDto,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CallDto> {
    const { call, accepted } = await this.calls.placeCall(body, user.sub);
    if (accepted) res.status(HttpStatus.ACCEPTED);
    return call;
  }

  /** Lists calls, newest first, with filters and cursor paging. */
  @Get('calls/history')
  @ApiMetadataFilter('calls')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid filter or cursor' })
  @JsonTextResponse(CallHistoryDto)
  getCallHistory(@Query() query: CallHistoryQueryDto): Promise<JsonText<CallHistoryDto>> {
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

  /**
   * Ends a call: hangs up an answered call, cancels one that is still queued or ringing. The request (who, when) is
   * stored before Twilio is asked.
   */
  @Post('calls/:sid/hangup')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Call)
  @ApiResponse({ status: 200, type: CallDto, description: 'Twilio ended the call; the record says so' })
  @ApiResponse({ status: 202, type: CallDto, description: ENDING_CALL })
  @ApiResponse({
    status: 503,
    type: ErrorResponseDto,
    description: 'The hangup request could not be recorded (code dependency_unavailable); Twilio was not asked and the call goes on',
    headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
  })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'sid is not a call SID' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such call' })
  @ApiResponse({
    status: 409,
    type: ErrorResponseDto,
    description: 'The call has already ended (code call_already_ended), or Twilio has not confirmed it yet (code conflict)',
  })
  @ApiTwilioErrors()
  async hangupCall(
    @Param() params: CallSidParamsDto,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CallDto> {
    const { call, accepted } = await this.calls.hangupCall(params.sid, user.sub);
    if (accepted) res.status(HttpStatus.ACCEPTED);
    return call;
  }

  /**
   * Speaks now on a live call, interrupting what it does. A call with an assistant then listens again (the text
   * joins its transcript as the assistant's); on a call without one, the call ends once the text is spoken (Twilio
   * cannot resume the TwiML the interruption replaced).
   */
  @Post('calls/:sid/say')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Call)
  @ApiResponse({ status: 200, type: CallDto, description: 'Twilio is speaking the text on the call' })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'sid is not a call SID, or invalid text or voice' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such call' })
  @ApiResponse({
    status: 409,
    type: ErrorResponseDto,
    description: 'The call is not live: not answered yet, or ended (code conflict or call_already_ended)',
  })
  @ApiTwilioErrors()
  sayOnCall(@Param() params: CallSidParamsDto, @Body() body: SayOnCallDto): Promise<CallDto> {
    return this.calls.sayOnCall(params.sid, body);
  }

  /**
   * Transfers a live call to another number: the call runs `<Dial>` to `to`, whoever answers there hears the
   * `whisper` first, then the two parties are connected. The request (who, when, where to) is stored before Twilio
   * is asked; how the dial ended (`transfer.status`, the dialed leg's `transfer.call_sid`) is stored when Twilio
   * reports it, and the call ends when the transferred conversation does. When nobody takes the dial (`busy`,
   * `no-answer`, `failed`), an assistant's call goes back to its conversation: the caller hears a short word and the
   * assistant listens again. Any other call hangs up then, since the TwiML the transfer replaced cannot be resumed.
   */
  @Post('calls/:sid/transfer')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Call)
  @ApiResponse({
    status: 200,
    type: CallDto,
    description: 'Twilio is dialing the number; `transfer.status` is `requested` until it reports how the dial ended',
  })
  @ApiResponse({
    status: 503,
    type: ErrorResponseDto,
    description: 'The transfer request could not be recorded (code dependency_unavailable); Twilio was not asked and the call goes on',
    headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
  })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid body (the field is named), or sid is not a call SID' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such call' })
  @ApiTwilioErrors()
  @Idempotent({
    conflict:
      'The call is not live, i.e. not answered and in progress (code call_not_live), or a transfer of it is already dialing (code transfer_in_progress)',
  })
  transferCall(@Param() params: CallSidParamsDto, @Body() body: TransferCallDto, @CurrentUser() user: AuthenticatedUser): Promise<CallDto> {
    return this.calls.transferCall(params.sid, body, user.sub);
  }
}
