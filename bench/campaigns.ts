import type { Figure } from './report';

/** The campaigns phase's targets (issue 14): a 100,000-recipient import, and memory that does not grow with a campaign's size. */
export const CAMPAIGN_TARGETS = { importSeconds: 30, importRecipients: 100_000, rssGrowthMiB: 25 };

export interface CampaignsPhaseContext {
  base: string;
  /** A token holding phone:call and phone:view. */
  token: string;
  /** Seconds each running campaign is watched. */
  seconds: number;
  /** The service's resident set size now, in MiB. */
  rssMiB: () => number;
  log: (line: string) => void;
}

export interface CampaignRun {
  recipients: number;
  /** How long the POST took, from the first byte sent to the answer read. */
  import_ms: number;
  status: number;
  accepted: number | null;
  /** RSS sampled every 250 ms during the import request. */
  import_rss_peak_mib: number;
  /** RSS sampled every second while the campaign ran. */
  running_rss: { seconds: number; mib: number }[];
  running_rss_peak_mib: number;
  /** Attempts made while watched: the campaign did run. */
  attempts: number;
}

export interface CampaignsPhaseResult {
  runs: CampaignRun[];
  figures: Figure[];
}

const API = '/api/phone';

/**
 * Imports a 10,000- and then a 100,000-recipient campaign as JSON, timing each whole request, then
 * watches each while it runs (paced at 20 calls a second, 50 live) and samples the service's RSS:
 * the engine claims recipients from the database a few at a time, so the larger campaign must not
 * need more memory than the smaller. Each campaign is canceled after it was watched.
 */
export async function measureCampaigns(ctx: CampaignsPhaseContext): Promise<CampaignsPhaseResult> {
  const runs: CampaignRun[] = [];
  for (const size of [10_000, CAMPAIGN_TARGETS.importRecipients]) runs.push(await importAndRun(ctx, size));
  const [small, large] = runs;
  const growth = large.running_rss_peak_mib - small.running_rss_peak_mib;
  const during = (run: CampaignRun) => (run.running_rss.at(-1)?.mib ?? NaN) - (run.running_rss[0]?.mib ?? NaN);
  const figures: Figure[] = [
    {
      name: `Import ${large.recipients} recipients (JSON, one request)`,
      value: `${(large.import_ms / 1000).toFixed(1)} s (${large.accepted ?? 'no'} accepted, HTTP ${large.status}); RSS peak ${large.import_rss_peak_mib} MiB`,
      target: `< ${CAMPAIGN_TARGETS.importSeconds} s`,
      met: large.status === 201 && large.accepted === large.recipients && large.import_ms < CAMPAIGN_TARGETS.importSeconds * 1000,
    },
    {
      name: `RSS while a campaign runs, ${small.recipients} vs ${large.recipients} recipients`,
      value:
        `peak ${small.running_rss_peak_mib} vs ${large.running_rss_peak_mib} MiB, ` +
        `+${during(small).toFixed(1)} and +${during(large).toFixed(1)} MiB while watched ` +
        `(${small.attempts} and ${large.attempts} attempts in ${ctx.seconds} s)`,
      target: `larger peak < smaller + ${CAMPAIGN_TARGETS.rssGrowthMiB} MiB`,
      met: small.attempts > 0 && large.attempts > 0 && growth < CAMPAIGN_TARGETS.rssGrowthMiB,
    },
  ];
  return { runs, figures };
}

async function importAndRun(ctx: CampaignsPhaseContext, size: number): Promise<CampaignRun> {
  const recipients = Array.from({ length: size }, (_, i) => ({
    // 415-200-0000 upwards: valid, distinct, one time zone
    to: `+1415${String(2_000_000 + i)}`,
    variables: { first_name: `Person ${i}` },
  }));
  const body = JSON.stringify({
    name: `Bench ${size}`,
    message: 'Hello {{first_name}}, this is a reminder of your appointment.',
    calling_window: { start: '00:00', end: '24:00' },
    pacing: { per_second: 20, max_live: 50 },
    recipients,
  });
  ctx.log(`campaigns: importing ${size} recipients (${(body.length / 2 ** 20).toFixed(1)} MiB of JSON)`);
  let importPeak = ctx.rssMiB();
  const importTimer = setInterval(() => (importPeak = Math.max(importPeak, ctx.rssMiB())), 250);
  const started = performance.now();
  let status: number;
  let created: { id?: string; import_report?: { accepted?: number } };
  try {
    const res = await fetch(`${ctx.base}${API}/campaigns`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ctx.token}`, 'Content-Type': 'application/json' },
      body,
    });
    status = res.status;
    created = (await res.json()) as typeof created;
  } finally {
    clearInterval(importTimer);
  }
  const importMs = Math.round(performance.now() - started);
  ctx.log(`campaigns: ${size} imported in ${importMs} ms (HTTP ${status}), RSS peak ${importPeak} MiB`);
  const run: CampaignRun = {
    recipients: size,
    import_ms: importMs,
    status,
    accepted: created.import_report?.accepted ?? null,
    import_rss_peak_mib: importPeak,
    running_rss: [],
    running_rss_peak_mib: NaN,
    attempts: 0,
  };
  if (status !== 201 || !created.id) return run;
  const watchStarted = Date.now();
  while (Date.now() - watchStarted < ctx.seconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    run.running_rss.push({ seconds: Math.round((Date.now() - watchStarted) / 1000), mib: ctx.rssMiB() });
  }
  run.running_rss_peak_mib = Math.max(...run.running_rss.map((s) => s.mib));
  const progress = await api(ctx, 'GET', `/campaigns/${created.id}`);
  const counts = (progress.counts ?? {}) as Record<string, number>;
  run.attempts = (progress.spend as { attempts?: number } | undefined)?.attempts ?? 0;
  ctx.log(`campaigns: ${size} ran ${ctx.seconds} s: ${JSON.stringify(counts)}, RSS peak ${run.running_rss_peak_mib} MiB`);
  await api(ctx, 'POST', `/campaigns/${created.id}/cancel`);
  return run;
}

async function api(ctx: CampaignsPhaseContext, method: string, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${ctx.base}${API}${path}`, { method, headers: { Authorization: `Bearer ${ctx.token}` } });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}
