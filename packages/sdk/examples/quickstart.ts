import { getCallHistory, placeCall, sendSms } from '@samsaek/phone-sdk';
import { createClient } from '@samsaek/phone-sdk/client';

export async function quickstart(baseUrl: string, token: string) {
  // `token` is a JWT holding phone:call, phone:sms and phone:view (or phone:admin).
  const phone = createClient({ baseUrl, auth: () => token });

  // 1. Place a call that speaks a message. `throwOnError` turns an error status into a thrown
  //    ErrorResponseDto, so `data` is a CallDto.
  const { data: call } = await placeCall({
    client: phone,
    body: { to: '+14155550100', message: 'Your table is ready.', agent_name: 'Concierge', workflow_id: 'wf_123' },
    throwOnError: true,
  });

  // 2. Send an SMS.
  const { data: sms } = await sendSms({
    client: phone,
    body: { to: '+14155550100', message: 'Your table is ready.', agent_name: 'Concierge' },
    throwOnError: true,
  });

  // 3. Read the call history of a workflow, newest first. Without `throwOnError` an error status
  //    comes back typed in `error` instead.
  const history = await getCallHistory({ client: phone, query: { workflow_id: 'wf_123', limit: 20 } });
  if (history.error) throw new Error(`${history.error.code}: ${history.error.message}`);

  return { call, sms, calls: history.data.calls, nextCursor: history.data.next_cursor };
}
