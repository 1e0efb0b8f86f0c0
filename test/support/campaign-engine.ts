/**
 * The campaign engine as the campaign specs run it: it polls its queue every half second and hands
 * a campaign back every two seconds, so a spec sees runs end and resume within its time, and the
 * API's own rate limit never refuses the calls a campaign places.
 */
export const QUICK_CAMPAIGN_ENGINE = {
  RATE_LIMIT_CALLS: '100000',
  CAMPAIGN_POLLING_INTERVAL_SECONDS: '0.5',
  CAMPAIGN_RUN_SECONDS: '2',
} as const;
