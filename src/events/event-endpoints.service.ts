import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { outboundUrlProblem } from '../common/outbound-url';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import {
  CreateEventEndpointDto,
  EventEndpointDto,
  EventEndpointListDto,
  EventEndpointWithSecretDto,
  UpdateEventEndpointDto,
} from './event-endpoints.dto';
import { EventEndpointEntity } from './event-endpoint.entity';
import { EventEndpointRepository } from './event-endpoint.repository';
import { EVENT_TYPES } from './event-types';

/** A Standard Webhooks secret: whsec_ and the base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Registers, changes and removes the URLs events are sent to. */
@Injectable()
export class EventEndpointsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly endpoints: EventEndpointRepository,
  ) {}

  async createEventEndpoint(input: CreateEventEndpointDto): Promise<EventEndpointWithSecretDto> {
    const url = this.checkedUrl(input.url);
    const eventTypes = checkedEventTypes(input.event_types);
    const row = await this.endpoints.insert({
      url,
      eventTypes,
      description: input.description ?? null,
      enabled: input.enabled ?? true,
      secret: newSigningSecret(),
    });
    return { ...toEventEndpointDto(row), secret: row.secret };
  }

  async listEventEndpoints(): Promise<EventEndpointListDto> {
    return { endpoints: (await this.endpoints.list()).map(toEventEndpointDto) };
  }

  async getEventEndpoint(id: string): Promise<EventEndpointDto> {
    return toEventEndpointDto(await this.findOrFail(id));
  }

  async updateEventEndpoint(id: string, input: UpdateEventEndpointDto): Promise<EventEndpointDto> {
    await this.findOrFail(id);
    const patch: Partial<EventEndpointEntity> = {};
    if (input.url !== undefined) patch.url = this.checkedUrl(input.url);
    if (input.event_types !== undefined) patch.eventTypes = checkedEventTypes(input.event_types);
    if (input.description !== undefined) patch.description = input.description;
    if (input.enabled !== undefined) {
      patch.enabled = input.enabled;
      if (input.enabled) Object.assign(patch, { disabledReason: null, consecutiveFailures: 0, failingSince: null });
    }
    if (Object.keys(patch).length === 0) {
      throw AppError.invalidField('url', 'Send at least one of url, event_types, enabled or description to change');
    }
    const updated = await this.endpoints.update(id, patch);
    if (!updated) throw AppError.notFound('Event endpoint', id);
    return toEventEndpointDto(updated);
  }

  async deleteEventEndpoint(id: string): Promise<EventEndpointDto> {
    const row = await this.findOrFail(id);
    if (!(await this.endpoints.delete(id))) throw AppError.notFound('Event endpoint', id);
    return toEventEndpointDto(row);
  }

  /** A new signing secret; the current one keeps signing for the overlap window. */
  async rotateEventEndpointSecret(id: string): Promise<EventEndpointWithSecretDto> {
    await this.findOrFail(id);
    const until = new Date(Date.now() + this.config.events.secretOverlapSeconds * 1000);
    const row = await this.endpoints.rotateSecret(id, newSigningSecret(), until);
    if (!row) throw AppError.notFound('Event endpoint', id);
    return { ...toEventEndpointDto(row), secret: row.secret };
  }

  private async findOrFail(id: string): Promise<EventEndpointEntity> {
    const row = await this.endpoints.findById(id);
    if (!row) throw AppError.notFound('Event endpoint', id);
    return row;
  }

  private checkedUrl(url: string): string {
    const problem = outboundUrlProblem(url, this.config.events.allowPrivateUrls);
    if (problem) throw AppError.invalidField('url', `url ${problem}`);
    return url;
  }
}

function checkedEventTypes(types: string[]): string[] {
  const unique = [...new Set(types)];
  if (unique.includes('*')) {
    if (unique.length > 1) throw AppError.invalidField('event_types', 'event_types is either ["*"] or a list of event types, not both');
    return unique;
  }
  const unknown = unique.filter((type) => !(EVENT_TYPES as readonly string[]).includes(type));
  if (unknown.length) {
    throw AppError.invalidField('event_types', `Unknown event type(s) ${unknown.join(', ')}; known: ${EVENT_TYPES.join(', ')}, or "*"`);
  }
  return unique;
}

export function toEventEndpointDto(row: EventEndpointEntity): EventEndpointDto {
  const overlapping = row.previousSecret !== null && row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt > new Date();
  return {
    id: row.id,
    url: row.url,
    event_types: row.eventTypes,
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    consecutive_failures: row.consecutiveFailures,
    previous_secret_expires_at: overlapping ? row.previousSecretExpiresAt : null,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}
