import { Injectable, OnModuleInit } from '@nestjs/common';
import { GuardrailsService } from '../guardrails/guardrails.service';
import { PhoneNumberRepository } from './phone-number.repository';

/**
 * Tells the guardrails what today's purchases cost: Twilio charges a month up front when a number
 * is bought, and the number resource carries no price, so each counts at the configured monthly price.
 */
@Injectable()
export class NumberGuardrailsMeter implements OnModuleInit {
  constructor(
    private readonly guardrails: GuardrailsService,
    private readonly numbers: PhoneNumberRepository,
  ) {}

  onModuleInit(): void {
    this.guardrails.registerSpend('numbers', async ({ since }) => ({
      actual: '0',
      pending: { numbers: await this.numbers.countPurchasedSince(since) },
    }));
  }
}
