import { Injectable, OnModuleInit } from '@nestjs/common';
import { GuardrailsService } from '../guardrails/guardrails.service';
import { CallRecordRepository } from './call-record.repository';

/** Tells the guardrails how many calls are live and what today's calls cost, from the call records. */
@Injectable()
export class CallGuardrailsMeter implements OnModuleInit {
  constructor(
    private readonly guardrails: GuardrailsService,
    private readonly calls: CallRecordRepository,
  ) {}

  onModuleInit(): void {
    this.guardrails.registerLiveCalls((atMost) => this.calls.countLive(atMost));
    this.guardrails.registerSpend('calls', async ({ since, expectedCallMinutes }) => {
      const spent = await this.calls.spendSince(since, expectedCallMinutes);
      return { actual: spent.actual, pending: { voiceMinutes: spent.pendingMinutes } };
    });
  }
}
