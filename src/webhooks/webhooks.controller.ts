import { Body, Controller, Header, Headers, HttpCode, HttpStatus, Post, Query, Type, UseGuards, applyDecorators } from '@nestjs/common';
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
import { EMPTY_VOICEMAIL, VOICEMAIL_QUERY } from './greeting.twiml';
import { InboundService } from './inbound.service';
import { TwilioSignatureGuard } from './twilio-signature.guard';
import { normalizeParams, param } from './twilio-params';
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

/** How many waits we put in a voicemail wait's URL (the signature covers it); anything else is 0. */
function waitedOf(value: unknown): number {
  return typeof value === 'string' && /^[0-9]{1,3}$/.test(value) ? Number(value) : 0;
}

const TWIML = { description: 'TwiML', content: { 'text/xml': { schema: { type: 'string' } } } };

/** What a route may add to its kind's decorators: the `record_id` query of URLs given for one record. */
interface RouteOptions {
  recordId?: boolean;
}

/** A webhook Twilio asks what to do next: answered 200 with TwiML. */
function TwimlRoute(path: string, body: Type<unknown>, options: RouteOptions = {}): MethodDecorator {
  return applyDecorators(
    Post(path),
    HttpCode(HttpStatus.OK),
    Header('Content-Type', 'text/xml'),
    ApiBody({ type: body }),
    ApiProduces('text/xml'),
    ApiOkResponse(TWIML),
    ...(options.recordId ? [ApiQuery(RECORD_ID_QUERY)] : []),
  );
}

/**
 * A callback that only tells us something, answered 204: the route also carries
 * `@HttpCode(HttpStatus.NO_CONTENT)` itself, where the swagger plugin reads it (inside a composed
 * decorator it does not see it and documents a 200 besides).
 */
function CallbackRoute(path: string, body: Type<unknown>, description: string, options: RouteOptions = {}): MethodDecorator {
  return applyDecorators(
    Post(path),
    ApiBody({ type: body }),
    ApiNoContentResponse({ description }),
    ...(options.recordId ? [ApiQuery(RECORD_ID_QUERY)] : []),
  );
}

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
  @TwimlRoute('call', TwilioVoiceWebhookDto, { recordId: true })
  @ApiQuery({
    name: VOICEMAIL_QUERY,
    required: false,
    description:
      "`empty`: the greeting's voicemail recorded nothing (Twilio drops an empty recording and goes on to this redirect); the call is hung up",
    schema: { type: 'string', enum: [EMPTY_VOICEMAIL] },
  })
  handleVoiceWebhook(
    @Body() body: TwilioBody,
    @Headers('i-twilio-idempotency-token') token?: string,
    @Query('record_id') recordId?: unknown,
    @Query(VOICEMAIL_QUERY) voicemail?: unknown,
  ): Promise<string> {
    return this.inbound.answerCall(normalizeParams(body), token ?? null, recordIdOf(recordId), voicemail === EMPTY_VOICEMAIL);
  }

  /** Messaging webhook: stores the inbound SMS once, handles STOP/START/HELP, answers TwiML. */
  @TwimlRoute('sms', TwilioSmsWebhookDto)
  handleSmsWebhook(@Body() body: TwilioBody, @Headers('i-twilio-idempotency-token') token?: string): Promise<string> {
    return this.inbound.answerSms(normalizeParams(body), token ?? null);
  }

  /** Gather action: a caller's turn of an assistant's conversation (speech, keys or silence); answers the assistant's next TwiML. */
  @TwimlRoute('gather', TwilioGatherWebhookDto)
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
  @HttpCode(HttpStatus.NO_CONTENT)
  @CallbackRoute('amd', TwilioAmdCallbackDto, 'Kept and applied (or already known); nothing to say back', { recordId: true })
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
  @TwimlRoute('transfer', TwilioDialActionDto, { recordId: true })
  handleTransferDialAction(
    @Body() body: TwilioBody,
    @Headers('i-twilio-idempotency-token') token?: string,
    @Query('record_id') recordId?: unknown,
  ): Promise<string> {
    return this.inbox.receiveDialOutcome(normalizeParams(body), token ?? null, recordIdOf(recordId));
  }

  /**
   * The `<Dial>` action of the inbound greeting's forward (`INBOUND_ACTION=forward`): notes who ended the
   * bridge (the caller, or the forwarded party) or that nobody took it, and answers the TwiML that ends the call.
   */
  @TwimlRoute('forward', TwilioDialActionDto)
  handleForwardDialAction(@Body() body: TwilioBody, @Headers('i-twilio-idempotency-token') token?: string): Promise<string> {
    return this.inbox.receiveForwardOutcome(normalizeParams(body), token ?? null);
  }

  /** The TwiML the transfer target hears before it is connected (`<Number url>`): the transfer's whisper. */
  @TwimlRoute('whisper', TwilioVoiceWebhookDto, { recordId: true })
  handleTransferWhisper(@Query('record_id') recordId?: unknown): Promise<string> {
    return this.control.whisperTwiml(recordIdOf(recordId));
  }

  /**
   * After the message of a call placed with a voicemail message, while detection listens: hangs up once it found
   * no machine, else waits a little more (a machine's beep redirects the call to its voicemail meanwhile).
   */
  @TwimlRoute('voicemail-wait', TwilioVoiceWebhookDto)
  @ApiQuery({
    name: 'waited',
    required: true,
    description: 'How many waits the call has had since its message',
    schema: { type: 'integer', minimum: 0 },
  })
  handleVoicemailWait(@Body() body: TwilioBody, @Query('waited') waited?: unknown): Promise<string> {
    return this.control.voicemailWaitTwiml(param(normalizeParams(body), 'CallSid') ?? null, waitedOf(waited));
  }

  /** Status callbacks for calls, messages and recordings: kept, deduplicated, applied in order of the lifecycle. */
  @HttpCode(HttpStatus.NO_CONTENT)
  @CallbackRoute('status', TwilioStatusCallbackDto, 'Kept (or already known); nothing to say back', { recordId: true })
  async handleStatusCallback(
    @Body() body: TwilioBody,
    @Headers('i-twilio-idempotency-token') token?: string,
    @Query('record_id') recordId?: unknown,
  ): Promise<void> {
    await this.inbox.receiveStatus(normalizeParams(body), token ?? null, recordIdOf(recordId));
  }
}
