import { randomBytes } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AppError } from '../common/app-error';
import { outboundUrlProblem } from '../common/outbound-url';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AssistantEntity } from './assistant.entity';
import { AssistantRepository } from './assistant.repository';
import {
  AssistantDto,
  AssistantFieldsDto,
  AssistantListDto,
  AssistantWithSecretDto,
  CreateAssistantDto,
  UpdateAssistantDto,
} from './assistants.dto';

export const ASSISTANT_DEFAULTS = {
  voice: 'alice',
  language: 'en-US',
  inputTimeoutSeconds: 5,
  speechTimeout: 'auto',
  profanityFilter: true,
  maxTurns: 50,
  maxDurationSeconds: 1800,
  silenceLimit: 3,
} as const;

/** Says why an assistant cannot be deleted (e.g. numbers still route to it), or null. */
export type AssistantInUseCheck = (assistantId: string) => Promise<string | null>;

/** What the conversation loop needs of an assistant, secrets included (never on the wire). */
export type Assistant = AssistantEntity;

/** Creates, changes and removes assistants; tells other modules what an assistant is. */
@Injectable()
export class AssistantsService {
  private readonly inUseChecks: AssistantInUseCheck[] = [];
  /** Copies of assistants for conversation turns (forTurn), for conversations.assistantCacheMs each. */
  private readonly copies: LRUCache<string, { assistant: Assistant | null }> | null;
  /** Moves on every change made here, so that a read begun before a change does not keep what it read. */
  private changes = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly assistants: AssistantRepository,
  ) {
    const ttl = config.conversations.assistantCacheMs;
    this.copies = ttl > 0 ? new LRUCache({ max: 10_000, ttl }) : null;
  }

  /** A module holding references to assistants refuses their deletion while they are referenced. */
  onDelete(check: AssistantInUseCheck): void {
    this.inUseChecks.push(check);
  }

  async createAssistant(input: CreateAssistantDto): Promise<AssistantWithSecretDto> {
    const row = await this.assistants.insert({
      name: input.name,
      agentUrl: this.checkedUrl(input.agent_url),
      voice: ASSISTANT_DEFAULTS.voice,
      language: ASSISTANT_DEFAULTS.language,
      inputTimeoutSeconds: ASSISTANT_DEFAULTS.inputTimeoutSeconds,
      speechTimeout: ASSISTANT_DEFAULTS.speechTimeout,
      profanityFilter: ASSISTANT_DEFAULTS.profanityFilter,
      speechModel: null,
      maxTurns: ASSISTANT_DEFAULTS.maxTurns,
      maxDurationSeconds: ASSISTANT_DEFAULTS.maxDurationSeconds,
      silenceLimit: ASSISTANT_DEFAULTS.silenceLimit,
      speechHints: [],
      endPhrases: [],
      firstMessage: null,
      greeting: null,
      transferNumber: null,
      voicemailMessage: null,
      metadata: {},
      ...fieldsOf(input),
      secret: newAssistantSecret(),
    });
    return { ...toAssistantDto(row), secret: row.secret };
  }

  async listAssistants(): Promise<AssistantListDto> {
    return { assistants: (await this.assistants.list()).map(toAssistantDto) };
  }

  async getAssistant(id: string): Promise<AssistantDto> {
    return toAssistantDto(await this.findOrFail(id));
  }

  async updateAssistant(id: string, input: UpdateAssistantDto): Promise<AssistantDto> {
    await this.findOrFail(id);
    const patch = fieldsOf(input);
    if (input.name !== undefined) patch.name = input.name;
    if (input.agent_url !== undefined) patch.agentUrl = this.checkedUrl(input.agent_url);
    if (Object.keys(patch).length === 0) throw AppError.invalidField('name', 'Send at least one field to change');
    const updated = await this.changed(id, this.assistants.update(id, patch));
    if (!updated) throw AppError.notFound('Assistant', id);
    return toAssistantDto(updated);
  }

  async deleteAssistant(id: string): Promise<AssistantDto> {
    const row = await this.findOrFail(id);
    for (const check of this.inUseChecks) {
      const reason = await check(id);
      if (reason) throw new AppError(HttpStatus.CONFLICT, 'conflict', `Assistant ${id} is in use: ${reason}`);
    }
    if (!(await this.changed(id, this.assistants.delete(id)))) throw AppError.notFound('Assistant', id);
    return toAssistantDto(row);
  }

  async rotateAssistantSecret(id: string): Promise<AssistantWithSecretDto> {
    await this.findOrFail(id);
    const until = new Date(Date.now() + this.config.events.secretOverlapSeconds * 1000);
    const row = await this.changed(id, this.assistants.rotateSecret(id, newAssistantSecret(), until));
    if (!row) throw AppError.notFound('Assistant', id);
    return { ...toAssistantDto(row), secret: row.secret };
  }

  /** The assistant with its secrets, or null. */
  find(id: string): Promise<Assistant | null> {
    return this.assistants.findById(id);
  }

  /**
   * The assistant for a conversation turn: read at most once per conversations.assistantCacheMs by
   * this instance (a turn is answered within milliseconds, and reading the assistant was one of
   * its few round trips to the database). Changes made through this instance apply at once.
   */
  async forTurn(id: string): Promise<Assistant | null> {
    const copy = this.copies?.get(id);
    if (copy) return copy.assistant;
    const changes = this.changes;
    const assistant = await this.assistants.findById(id);
    if (changes === this.changes) this.copies?.set(id, { assistant });
    return assistant;
  }

  /** The assistant for a request field (`assistant_id`): a 404 naming the field when there is none. */
  async findForField(id: string, field: string): Promise<Assistant> {
    const row = await this.assistants.findById(id);
    if (!row)
      throw new AppError(HttpStatus.NOT_FOUND, 'not_found', `Assistant ${id} not found`, [{ field, message: `No assistant ${id}` }]);
    return row;
  }

  /** The secrets that sign a turn now: the current one, and the previous one during a rotation's overlap. */
  signingSecrets(assistant: Assistant, now = new Date()): string[] {
    const overlapping = assistant.previousSecret && assistant.previousSecretExpiresAt && assistant.previousSecretExpiresAt > now;
    return overlapping ? [assistant.secret, assistant.previousSecret!] : [assistant.secret];
  }

  /** `change` of assistant `id`, after which no turn of this instance uses an earlier copy of it. */
  private async changed<T>(id: string, change: Promise<T>): Promise<T> {
    this.changes++;
    this.copies?.delete(id);
    try {
      return await change;
    } finally {
      this.changes++;
      this.copies?.delete(id);
    }
  }

  private async findOrFail(id: string): Promise<AssistantEntity> {
    const row = await this.assistants.findById(id);
    if (!row) throw AppError.notFound('Assistant', id);
    return row;
  }

  private checkedUrl(url: string): string {
    const problem = outboundUrlProblem(url, this.config.events.allowPrivateUrls);
    if (problem) throw AppError.invalidField('agent_url', `agent_url ${problem}`);
    return url;
  }
}

/** A Standard Webhooks secret: whsec_ and the base64 of 32 random bytes. */
function newAssistantSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The columns the shared fields of a create or update set (only those given). */
function fieldsOf(input: AssistantFieldsDto): Partial<AssistantEntity> {
  const patch: Partial<AssistantEntity> = {};
  if (input.first_message !== undefined) patch.firstMessage = input.first_message;
  if (input.greeting !== undefined) patch.greeting = input.greeting;
  if (input.voice !== undefined) patch.voice = input.voice;
  if (input.language !== undefined) patch.language = input.language;
  if (input.transfer_number !== undefined) patch.transferNumber = input.transfer_number;
  if (input.voicemail_message !== undefined) patch.voicemailMessage = input.voicemail_message;
  if (input.end_phrases !== undefined) patch.endPhrases = input.end_phrases;
  if (input.metadata !== undefined) patch.metadata = { ...input.metadata };
  const { speech, limits } = input;
  if (speech?.hints !== undefined) patch.speechHints = speech.hints;
  if (speech?.timeout !== undefined) patch.inputTimeoutSeconds = speech.timeout;
  if (speech?.speech_timeout !== undefined) patch.speechTimeout = speech.speech_timeout;
  if (speech?.profanity_filter !== undefined) patch.profanityFilter = speech.profanity_filter;
  if (speech?.speech_model !== undefined) patch.speechModel = speech.speech_model;
  if (limits?.max_turns !== undefined) patch.maxTurns = limits.max_turns;
  if (limits?.max_duration_seconds !== undefined) patch.maxDurationSeconds = limits.max_duration_seconds;
  if (limits?.silence_limit !== undefined) patch.silenceLimit = limits.silence_limit;
  return patch;
}

export function toAssistantDto(row: AssistantEntity): AssistantDto {
  const overlapping = row.previousSecret !== null && row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt > new Date();
  return {
    id: row.id,
    name: row.name,
    agent_url: row.agentUrl,
    first_message: row.firstMessage,
    greeting: row.greeting,
    voice: row.voice,
    language: row.language,
    speech: {
      hints: row.speechHints,
      timeout: row.inputTimeoutSeconds,
      speech_timeout: row.speechTimeout,
      profanity_filter: row.profanityFilter,
      speech_model: row.speechModel,
    },
    limits: { max_turns: row.maxTurns, max_duration_seconds: row.maxDurationSeconds, silence_limit: row.silenceLimit },
    end_phrases: row.endPhrases,
    transfer_number: row.transferNumber,
    voicemail_message: row.voicemailMessage,
    metadata: row.metadata ?? {},
    previous_secret_expires_at: overlapping ? row.previousSecretExpiresAt : null,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}
