export {
  DEFAULT_SANDBOX_ACCOUNT_SID,
  DEFAULT_SANDBOX_AUTH_TOKEN,
  DEFAULT_SANDBOX_NUMBER,
  TwilioSandbox,
  type CallbackDelivery,
  type FaultOptions,
  type FaultSettings,
  type InboundCallInput,
  type InboundSmsInput,
  type SandboxCallView,
  type SandboxMessage,
  type TwilioSandboxOptions,
} from './twilio-sandbox';
export { TERMINAL_CALL_STATUSES, TERMINAL_MESSAGE_STATUSES, type CallStatus, type MessageStatus } from './sandbox-state';
