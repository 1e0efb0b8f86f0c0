import { Body, Controller, Header, Headers, HttpCode, HttpStatus, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtension,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { WEBHOOK_ROUTE } from '../common/api-routes';
import { ErrorResponseDto } from '../common/error-response.dto';
import { RECORD_ID_PATTERN } from '../common/intent-status';
import { InboundService } from './inbound.service';
import { TwilioSignatureGuard } from './twilio-signature.guard';
import { normalizeParams } from './twilio-params';
import { WebhookInboxService } from './webhook-inbox.service';
import {
  TwilioAmdCallbackDto,
  TwilioDialActionDto,
  TwilioGatherWebhookDto,
  TwilioSmsWebhookDto,
  TwilioStatusCallbackDto,
  TwilioVoiceWebhookDto,
} from './webhooks.dto';
import { CallControlService } from '../calls/call-control.service';

/** Deliberately not a DTO type: the global ValidationPipe leaves a plain object alone, so no Twilio parameter is dropped. */
type TwilioBody = Record<string, string | string[]>;

const RECORD_ID_QUERY = {
  name: 'record_id',
  required: false,
  description: 'Id of the call or message record the URL was given to Twilio for (lets the callback find a record before it has a sid)',
  schema: { type: 'string' as const, format: 'uuid' },
};

/** A record id we put in the URL; anything else in its place is ignored (the signature already covers the URL). */
function recordIdOf(value: unknown): string | null {
  return typeof value === 'string' && RECORD_ID_PATTERN.test(value) ? value : null;
}

/** The step we put in a Gather's action URL (the signature covers it); anything else is step 1. */
function stepOf(value: unknown): number {
  const step = typeof value === 'string' && /^[1-9][0-9]{0,5}$/.test(value) ? Number(value) : 1;
  return step;
}

const TWIML = { description: 'TwiML', content: { 'text/xml': { schema: { type: 'string' } } } };

/** Twilio → us. Public for the bearer-token guard; every request must carry a valid X-Twilio-Signature. */
@ApiTags('webhooks')
// Twilio's callbacks, not client operations: documented, but SDK generators leave x-internal operations out
@ApiExtension('x-internal', true)
@Public()
@UseGuards(TwilioSignatureGuard)
@ApiHeader({
  name: 'X-Twilio-Signature',
  required: true,
  description: "Twilio's HMAC-SHA1 signature of the public URL (SAMSAEK_TWILIO_WEBHOOK_URL + route + query) and the parameters",
})
@ApiHeader({ name: 'I-Twilio-Idempotency-Token', required: false, description: 'Kept with the event for audit' })
@ApiConsumes('application/x-www-form-urlencoded', 'application/json')
@ApiExtraModels(
  TwilioVoiceWebhookDto,
  TwilioSmsWebhookDto,
  TwilioStatusCallbackDto,
  TwilioGatherWebhookDto,
  TwilioAmdCallbackDto,
  TwilioDialActionDto,
)
@ApiResponse({
  status: 403,
  type: ErrorResponseDto,
  description: 'Missing or invalid X-Twilio-Signature (code invalid_signature); nothing is stored',
})
@Controller(WEBHOOK_ROUTE)
export class WebhooksController {
  constructor(
    private readonly inbound: InboundService,
    private readonly inbox: WebhookInboxService,
    private readonly control: CallControlService,
  ) {}

  /** Voice webhook: greets inbound callers (voicemail, forward or hang up) and serves the TwiML of calls we placed. */
  @Post('call')
  @HttpCode(HttpStatus.OK)
  @Header('Content-Type', 'text/xml')
  @ApiBody({ type: TwilioVoiceWebhookDto })
  @ApiProduces('text/xml')
  @ApiOkResponse(TWIML)
  @ApiQuery(RECORD_ID_QUERY)
  handleVoiceWebhook(
    @Body() body: TwilioBody,
    @Headers('i-twilio-idempotency-token') token?: string,
    @Query('record_id') recordId?: unknown,
  ): Promise<string> {
    return this.inbound.answerCall(normalizeParams(body), token ?? null, recordIdOf(recordId));
  }

  /** Messaging webhook: stores the inbound SMS once, handles STOP/START/HELP, answers TwiML. */
  @Post('sms')
  @HttpCode(HttpStatus.OK)
  @Header('Content-Type', 'text/xml')
  @ApiBody({ type: TwilioSmsWebhookDto })
  @ApiProduces('text/xml')
  @ApiOkResponse(TWIML)
  handleSmsWebhook(@Body() body: TwilioBody, @Headers('i-twilio-idempotency-token') token?: string): Promise<string> {
    return this.inbound.answerSms(normalizeParams(body), token ?? null);
  }

  /** Gather action: a caller's turn of an assistant's conversation (speech, keys or silence); answers the assistant's next TwiML. */
  @Post('gather')
  @HttpCode(HttpStatus.OK)
  @Header('Content-Type', 'text/xml')
  @ApiBody({ type: TwilioGatherWebhookDto })
  @ApiProduces('text/xml')
  @ApiOkResponse(TWIML)
  @ApiQuery({
    name: 'step',
    required: true,
    description: 'The conversation step the Gather listened for',
    schema: { type: 'integer', minimum: 1 },
  })
  handleGatherWebhook(
    @Body() body: TwilioBody,
    @Headers('i-twilio-idempotency-token') token?: string,
    @Query('step') step?: unknown,
  ): Promise<string> {
    return this.inbound.answerGather(normalizeParams(body), stepOf(step), token ?? null);
  }

  /** Asynchronous answering-machine detection's result for a call placed with a voicemail message: stored, and the voicemail left once. */
  @Post('amd')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBody({ type: TwilioAmdCallbackDto })
  @ApiNoContentResponse({ description: 'Kept and applied (or already known); nothing to say back' })
  @ApiQuery(RECORD_ID_QUERY)
  async handleAmdCallback(
    @Body() body: TwilioBody,
    @Headers('i-twilio-idempotency-token') token?: string,
    @Query('record_id') recordId?: unknown,
  ): Promise<void> {
    await this.inbox.receiveMachineDetection(normalizeParams(body), token ?? null, recordIdOf(recordId));
  }

  /**
   * The `<Dial>` action of a transfer: stores how the dial ended and answers the TwiML that ends the call, or, on an
   * assistant's call whose dial nobody took, the TwiML that returns it to the conversation.
   */
  @Post('transfer')
  @HttpCode(HttpStatus.OK)
  @Header('Content-Type', 'text/xml')
  @ApiBody({ type: TwilioDialActionDto })
  @ApiProduces('text/xml')
  @ApiOkResponse(TWIML)
  @ApiQuery(RECORD_ID_QUERY)
  handleTransferDialAction(
    @Body() body: TwilioBody,
    @Headers('i-twilio-idempotency-token') token?: string,
    @Query('record_id') recordId?: unknown,
  ): Promise<string> {
    return this.inbox.receiveDialOutcome(normalizeParams(body), token ?? null, recordIdOf(recordId));
  }

  /** The TwiML the transfer target hears before it is connected (`<Number url>`): the transfer's whisper. */
  @Post('whisper')
  @HttpCode(HttpStatus.OK)
  @Header('Content-Type', 'text/xml')
  @ApiBody({ type: TwilioVoiceWebhookDto })
  @ApiProduces('text/xml')
  @ApiOkResponse(TWIML)
  @ApiQuery(RECORD_ID_QUERY)
  handleTransferWhisper(@Query('record_id') recordId?: unknown): Promise<string> {
    return this.control.whisperTwiml(recordIdOf(recordId));
  }

  /** Status callbacks for calls, messages and recordings: kept, deduplicated, applied in order of the lifecycle. */
  @Post('status')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBody({ type: TwilioStatusCallbackDto })
  @ApiNoContentResponse({ description: 'Kept (or already known); nothing to say back' })
  @ApiQuery(RECORD_ID_QUERY)
  async handleStatusCallback(
    @Body() body: TwilioBody,
    @Headers('i-twilio-idempotency-token') token?: string,
    @Query('record_id') recordId?: unknown,
  ): Promise<void> {
    await this.inbox.receiveStatus(normalizeParams(body), token ?? null, recordIdOf(recordId));
  }
}
