import { Router } from 'express';
import type { SandboxContext } from './sandbox-context';
import { rfc2822 } from './wire';

/** `GET /2010-04-01/Accounts/{AccountSid}.json`: the account, suspended once its balance is spent. */
export function accountRoutes(ctx: SandboxContext, startedAt: Date): Router {
  const router = Router({ mergeParams: true });
  router.get('/', (_req, res) => {
    const uri = `/2010-04-01/Accounts/${ctx.accountSid}.json`;
    res.status(200).json({
      sid: ctx.accountSid,
      owner_account_sid: ctx.accountSid,
      auth_token: null,
      friendly_name: 'Samsaek Twilio sandbox',
      status: ctx.state.balance > 0 ? 'active' : 'suspended',
      type: 'Full',
      date_created: rfc2822(startedAt),
      date_updated: rfc2822(new Date()),
      uri,
      subresource_uris: {
        balance: `/2010-04-01/Accounts/${ctx.accountSid}/Balance.json`,
        calls: `/2010-04-01/Accounts/${ctx.accountSid}/Calls.json`,
        messages: `/2010-04-01/Accounts/${ctx.accountSid}/Messages.json`,
        incoming_phone_numbers: `/2010-04-01/Accounts/${ctx.accountSid}/IncomingPhoneNumbers.json`,
        recordings: `/2010-04-01/Accounts/${ctx.accountSid}/Recordings.json`,
      },
    });
  });
  return router;
}
