import { Injectable, OnModuleInit } from '@nestjs/common';
import { GuardrailsService } from '../guardrails/guardrails.service';
import { MessageRecordRepository } from './message-record.repository';

/** Tells the guardrails what today's messages cost, from the message records. */
@Injectable()
export class MessageGuardrailsMeter implements OnModuleInit {
  constructor(
    private readonly guardrails: GuardrailsService,
    private readonly messages: MessageRecordRepository,
  ) {}

  onModuleInit(): void {
    this.guardrails.registerSpend('sms', async ({ since }) => {
      const spent = await this.messages.spendSince(since);
      return { actual: spent.actual, pending: { smsSegments: spent.pendingSegments } };
    });
  }
}
