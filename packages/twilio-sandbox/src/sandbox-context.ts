import type { CallLifecycle } from './call-lifecycle';
import type { CallbackSender } from './callback-sender';
import type { Faults } from './faults';
import type { MessageLifecycle } from './message-lifecycle';
import type { PhoneInventory } from './phone-inventory';
import type { ResourceViews } from './resources';
import type { Pricing, SandboxState } from './sandbox-state';
import type { Scheduler } from './scheduler';
import { ApiError } from './wire';

/** What the route handlers share. */
export interface SandboxContext {
  accountSid: string;
  state: SandboxState;
  scheduler: Scheduler;
  calls: CallLifecycle;
  messages: MessageLifecycle;
  sender: CallbackSender;
  inventory: PhoneInventory;
  views: ResourceViews;
  faults: Faults;
  pricing: Pricing;
  publicBaseUrl: () => string;
}

/** Twilio refuses new calls and messages once the balance is used up. */
export function assertFunds(ctx: SandboxContext): void {
  if (ctx.state.balance <= 0) throw new ApiError(403, 20005, 'Account not active');
}
