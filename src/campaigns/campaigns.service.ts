import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { parse as parseCsv } from 'csv-parse/sync';
import { AssistantsService } from '../assistants/assistants.service';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { Permission } from '../auth/permission';
import { AppError } from '../common/app-error';
import { decodeCursor } from '../common/cursor';
import { formatMoney } from '../common/money';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { GuardrailsService } from '../guardrails/guardrails.service';
import { OptOutsService } from '../sms/opt-outs.service';
import { countSmsSegments } from '../sms/sms-segments';
import { MAX_TWIML_LENGTH, twimlProblem } from '../twilio/twiml';
import { CallingWindow, DEFAULT_WINDOW, Weekday, minutesOf } from './calling-window';
import { CampaignAttemptEntity } from './campaign-attempt.entity';
import { CampaignEngine } from './campaign-engine.service';
import { CampaignEntity, CampaignState, ContentKind } from './campaign.entity';
import { Escape, escapeXml, renderTemplate, templateVariables } from '../common/template';
import { ImportedRecipient, importRecipients, validNumbers } from './campaign-import';
import { CampaignRecipientEntity } from './campaign-recipient.entity';
import { CampaignRepository } from './campaign.repository';
import {
  CampaignDryRunDto,
  CampaignDto,
  CampaignListDto,
  CampaignListQueryDto,
  CampaignRecipientDto,
  CampaignRecipientListDto,
  CampaignRecipientQueryDto,
  CreateCampaignDto,
  ImportReportDto,
  MAX_RECIPIENTS,
} from './campaigns.dto';

const CONTENT_FIELDS = ['message', 'audio_url', 'twiml', 'assistant_id', 'sms_body'] as const;
const DEFAULT_PAGE_SIZE = 20;
const DEFAULT_RECIPIENT_PAGE_SIZE = 100;
const SKIPPED_ROWS_SHOWN = 1000;
const CURRENCY = 'USD';
/** Longest rendered content per kind (TwiML Twilio takes inline; an SMS body; a spoken message; a URL; an id). */
const MAX_CONTENT: Record<ContentKind, number> = {
  message: 20000,
  twiml: MAX_TWIML_LENGTH,
  sms_body: 1600,
  audio_url: 2000,
  assistant_id: 36,
};
const ESCAPES: Record<ContentKind, Escape> = {
  message: (v) => v,
  sms_body: (v) => v,
  twiml: escapeXml,
  audio_url: encodeURIComponent,
  assistant_id: (v) => v,
};

@Injectable()
export class CampaignsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly campaigns: CampaignRepository,
    private readonly optOuts: OptOutsService,
    private readonly guardrails: GuardrailsService,
    private readonly engine: CampaignEngine,
    private readonly assistants: AssistantsService,
  ) {}

  /**
   * Validates every recipient on its own (skipped rows keep their reason), then either answers the
   * report and estimate (dry run) or stores the campaign, its recipients and its first job at once.
   */
  async createCampaign(body: CreateCampaignDto, dryRun: boolean, user: AuthenticatedUser): Promise<CampaignDryRunDto | CampaignDto> {
    const kind = contentKind(body);
    const channel = kind === 'sms_body' ? 'sms' : 'call';
    const needed = channel === 'sms' ? Permission.Sms : Permission.Call;
    if (!user.permissions.has(needed)) {
      throw new AppError(
        HttpStatus.FORBIDDEN,
        'forbidden',
        `An ${channel === 'sms' ? 'SMS' : 'call'} campaign requires the ${needed} permission`,
      );
    }
    const template = body[kind]!;
    if (kind === 'twiml') {
      // the document with every variable filled by a placeholder must already be valid TwiML
      const sample = renderTemplate(template, Object.fromEntries(templateVariables(template).map((v) => [v, 'x'])));
      const problem = twimlProblem(sample as string);
      if (problem) throw AppError.invalidField('twiml', problem);
    }
    // an unknown assistant is a 404 naming the field, as on POST call
    if (kind === 'assistant_id') await this.assistants.findForField(template, 'assistant_id');
    const accountRate = this.config.campaigns.accountPerSecond[channel];
    if ((body.pacing?.per_second ?? 1) > accountRate) {
      const what = channel === 'sms' ? 'messages' : 'calls';
      throw AppError.invalidField(
        'pacing.per_second',
        `pacing.per_second must be at most ${accountRate}: the account places at most ${accountRate} ${what} a second, shared by all its campaigns`,
      );
    }
    const window = callingWindow(body);
    const raw = recipientRows(body);
    const now = new Date();
    const startAt = body.start_at ? new Date(body.start_at) : now;
    const optedOut = new Set(await this.optOuts.optedOutAmong(validNumbers(raw)));
    const recipients = importRecipients(raw, {
      template,
      escape: ESCAPES[kind],
      maxContentLength: MAX_CONTENT[kind],
      window,
      optedOut,
      now: startAt,
      variablesInMetadata: kind === 'assistant_id',
    });
    const report = importReport(recipients);
    const retry = {
      on: body.retry?.on ?? [],
      maxAttempts: body.retry?.max_attempts ?? 3,
      afterSeconds: body.retry?.after_seconds ?? 600,
    };
    if (dryRun)
      return { import_report: report, estimated_cost: this.estimate(channel, recipients, retry.on.length ? retry.maxAttempts : 1) };
    const campaign = await this.campaigns.create(
      {
        name: body.name,
        channel,
        contentKind: kind,
        template,
        fromNumbers: body.from ?? [this.config.twilio.phoneNumber],
        state: 'scheduled',
        pausedReason: null,
        startAt,
        windowStart: window.start,
        windowEnd: window.end,
        windowDays: window.days,
        perSecond: body.pacing?.per_second ?? 1,
        maxLive: body.pacing?.max_live ?? 10,
        retryOn: retry.on,
        maxAttempts: retry.on.length ? retry.maxAttempts : 1,
        retryAfterSeconds: retry.afterSeconds,
        importReport: report as unknown as Record<string, unknown>,
        createdBy: user.sub,
        startedAt: null,
        finishedAt: null,
      },
      recipients,
      (tx, saved) => this.engine.scheduleIn(tx, saved.id, saved.startAt),
    );
    this.engine.wake();
    return this.getCampaign(campaign.id);
  }

  async getCampaign(id: string): Promise<CampaignDto> {
    const campaign = await this.findOrFail(id);
    const [counts, spend, rate] = await Promise.all([
      this.campaigns.countsByState(id),
      this.campaigns.spend(id),
      this.campaigns.recentRate(id),
    ]);
    const left = counts.pending + counts.scheduled + counts.retrying;
    const finished = campaign.state === 'completed' || campaign.state === 'canceled';
    const pace = rate > 0 ? rate : Math.min(campaign.perSecond, this.config.campaigns.accountPerSecond[campaign.channel]);
    const from = Math.max(Date.now(), campaign.startAt.getTime());
    return {
      ...toCampaignListItem(campaign),
      message: campaign.contentKind === 'message' ? campaign.template : null,
      audio_url: campaign.contentKind === 'audio_url' ? campaign.template : null,
      twiml: campaign.contentKind === 'twiml' ? campaign.template : null,
      assistant_id: campaign.contentKind === 'assistant_id' ? campaign.template : null,
      sms_body: campaign.contentKind === 'sms_body' ? campaign.template : null,
      from: campaign.fromNumbers,
      calling_window: { start: campaign.windowStart, end: campaign.windowEnd, days: campaign.windowDays as Weekday[] },
      pacing: { per_second: campaign.perSecond, max_live: campaign.maxLive },
      retry: { on: campaign.retryOn, max_attempts: campaign.maxAttempts, after_seconds: campaign.retryAfterSeconds },
      import_report: campaign.importReport as unknown as ImportReportDto,
      counts,
      spend: { priced: spend.priced, attempts: spend.attempts, unpriced_attempts: spend.unpriced, currency: CURRENCY },
      eta: finished ? null : new Date(from + Math.ceil((left / pace) * 1000)),
      created_by: campaign.createdBy,
      started_at: campaign.startedAt,
      finished_at: campaign.finishedAt,
      updated_at: campaign.updatedAt,
    };
  }

  async listCampaigns(query: CampaignListQueryDto): Promise<CampaignListDto> {
    const page = await this.campaigns.listPage(decodeCursor(query.cursor), query.limit ?? DEFAULT_PAGE_SIZE, query.state);
    return { campaigns: page.items.map(toCampaignListItem), next_cursor: page.nextCursor };
  }

  async listRecipients(id: string, query: CampaignRecipientQueryDto): Promise<CampaignRecipientListDto> {
    await this.findOrFail(id);
    const after = decodePositionCursor(query.cursor);
    const limit = query.limit ?? DEFAULT_RECIPIENT_PAGE_SIZE;
    const page = await this.campaigns.recipientsPage(id, after, limit, query.state);
    const last = page.recipients[page.recipients.length - 1];
    return {
      recipients: page.recipients.map((r) => toRecipientDto(r, page.attempts.get(r.id) ?? [])),
      next_cursor: page.more && last ? Buffer.from(`p${last.position}`).toString('base64url') : null,
    };
  }

  /** No new attempts until resumed; calls in progress finish. */
  pauseCampaign(id: string): Promise<CampaignDto> {
    return this.move(id, ['scheduled', 'running'], 'paused', { pausedReason: 'paused through the API' }, 'paused');
  }

  resumeCampaign(id: string): Promise<CampaignDto> {
    return this.move(id, ['paused'], 'scheduled', { pausedReason: null }, 'resumed', (tx) => this.engine.scheduleIn(tx, id, new Date()));
  }

  /** No new attempts ever; recipients not reached are skipped; calls in progress finish. */
  cancelCampaign(id: string): Promise<CampaignDto> {
    return this.move(id, ['scheduled', 'running', 'paused'], 'canceled', { finishedAt: new Date() }, 'canceled');
  }

  private async move(
    id: string,
    from: CampaignState[],
    to: CampaignState,
    changes: Parameters<CampaignRepository['transition']>[3],
    verb: string,
    also?: Parameters<CampaignRepository['transition']>[4],
  ): Promise<CampaignDto> {
    const current = await this.findOrFail(id);
    const moved = await this.campaigns.transition(id, from, to, changes, also);
    if (!moved) {
      throw new AppError(HttpStatus.CONFLICT, 'conflict', `Campaign ${id} cannot be ${verb}: it is ${current.state}`);
    }
    if (to === 'scheduled') this.engine.wake();
    return this.getCampaign(id);
  }

  private estimate(channel: 'call' | 'sms', recipients: ImportedRecipient[], attempts: number): CampaignDryRunDto['estimated_cost'] {
    let first = 0n;
    const perCall = this.guardrails.estimateOf({ kind: 'call' });
    for (const r of recipients) {
      if (r.skipReason) continue;
      first += channel === 'call' ? perCall : this.guardrails.estimateOf({ kind: 'sms', segments: countSmsSegments(r.content ?? '') });
    }
    return { first_attempts: formatMoney(first), with_all_retries: formatMoney(first * BigInt(attempts)), currency: CURRENCY };
  }

  private async findOrFail(id: string): Promise<CampaignEntity> {
    const found = await this.campaigns.findById(id);
    if (!found) throw AppError.notFound('Campaign', id);
    return found;
  }
}

function contentKind(body: CreateCampaignDto): ContentKind {
  const given = CONTENT_FIELDS.filter((field) => body[field] !== undefined);
  if (given.length !== 1) {
    const message =
      given.length === 0
        ? 'One of message, audio_url, twiml, assistant_id or sms_body is required'
        : `Only one of message, audio_url, twiml, assistant_id or sms_body may be given (got ${given.join(', ')})`;
    throw new AppError(
      HttpStatus.BAD_REQUEST,
      'validation_failed',
      message,
      (given.length ? given : CONTENT_FIELDS).map((field) => ({ field, message })),
    );
  }
  return given[0];
}

function callingWindow(body: CreateCampaignDto): CallingWindow {
  const given = body.calling_window;
  if (!given) return DEFAULT_WINDOW;
  if (minutesOf(given.end) <= minutesOf(given.start)) {
    throw AppError.invalidField('calling_window.end', 'calling_window.end must be later than calling_window.start');
  }
  return { start: given.start, end: given.end, days: given.days ?? DEFAULT_WINDOW.days };
}

/** The recipients of the JSON list or of the CSV text (header `to` and a column per variable). */
function recipientRows(body: CreateCampaignDto): unknown[] {
  if ((body.recipients === undefined) === (body.recipients_csv === undefined)) {
    const message = 'Exactly one of recipients or recipients_csv is required';
    throw new AppError(HttpStatus.BAD_REQUEST, 'validation_failed', message, [
      { field: 'recipients', message },
      { field: 'recipients_csv', message },
    ]);
  }
  if (body.recipients) {
    if (!body.recipients.length) throw AppError.invalidField('recipients', 'recipients must not be empty');
    return body.recipients;
  }
  return csvRecipients(body.recipients_csv!);
}

export function csvRecipients(text: string): unknown[] {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv<Record<string, string>>(text, {
      columns: true,
      skip_empty_lines: true,
      trim: true,
      bom: true,
      relax_column_count: true,
    });
  } catch (error) {
    throw AppError.invalidField(
      'recipients_csv',
      `recipients_csv is not valid CSV: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!rows.length) throw AppError.invalidField('recipients_csv', 'recipients_csv has no recipient rows');
  if (!('to' in rows[0])) throw AppError.invalidField('recipients_csv', 'recipients_csv must have a header row with a "to" column');
  if (rows.length > MAX_RECIPIENTS) throw AppError.invalidField('recipients_csv', `recipients_csv may have at most ${MAX_RECIPIENTS} rows`);
  return rows.map(({ to, ...variables }) => ({
    to,
    variables: Object.fromEntries(Object.entries(variables).filter(([, v]) => v !== undefined && v !== '')),
  }));
}

function importReport(recipients: ImportedRecipient[]): ImportReportDto {
  const skipped = recipients.filter((r) => r.skipReason !== null);
  const byReason: Record<string, number> = {};
  for (const r of skipped) byReason[r.skipReason!] = (byReason[r.skipReason!] ?? 0) + 1;
  return {
    total: recipients.length,
    accepted: recipients.length - skipped.length,
    skipped: skipped.length,
    skipped_by_reason: byReason,
    skipped_rows: skipped
      .slice(0, SKIPPED_ROWS_SHOWN)
      .map((r) => ({ row: r.position, to: r.to, reason: r.skipReason!, message: r.skipMessage! })),
  };
}

function decodePositionCursor(cursor: string | undefined): number {
  if (!cursor) return -1;
  const match = /^p(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw AppError.invalidField('cursor', 'cursor is not a cursor returned by this API');
  return Number(match[1]);
}

function toCampaignListItem(c: CampaignEntity) {
  return {
    id: c.id,
    name: c.name,
    channel: c.channel,
    state: c.state,
    paused_reason: c.pausedReason,
    start_at: c.startAt,
    created_at: c.createdAt,
  };
}

function toRecipientDto(r: CampaignRecipientEntity, attempts: CampaignAttemptEntity[]): CampaignRecipientDto {
  return {
    id: r.id,
    position: r.position,
    to: r.toNumber,
    state: r.state,
    skip_reason: r.skipReason,
    skip_message: r.skipMessage,
    variables: r.variables,
    metadata: r.metadata,
    time_zones: r.timeZones ? r.timeZones.split(',') : [],
    next_attempt_at: r.nextAttemptAt,
    last_outcome: r.lastOutcome,
    attempts: attempts.map((a) => ({
      attempt: a.attemptNumber,
      record_id: a.recordId,
      sid: a.sid,
      status: a.status,
      outcome: a.outcome,
      error: a.error,
      requested_at: a.requestedAt,
      ended_at: a.endedAt,
      price: a.price,
    })),
  };
}
