import type { Figure } from './report';

/** The campaigns phase's targets (issue 14): a 100,000-recipient import, and memory that does not grow with a campaign's size. */
export const CAMPAIGN_TARGETS = { importSeconds: 30, importRecipients: 100_000, rssGrowthMiB: 25 };

/** A service of the phase's own, on the benchmark's database. */
export interface CampaignService {
  base: string;
  /** A token holding phone:call and phone:view. */
  token: string;
  /** The service's resident set size now, in MiB. */
  rssMiB: () => number;
  stop: () => Promise<void>;
}

export interface CampaignsPhaseContext {
  startService: () => Promise<CampaignService>;
  /** Seconds each running campaign is watched. */
  seconds: number;
  log: (line: string) => void;
}

export interface CampaignRun {
  recipients: number;
  /** How long the POST took, from the first byte sent to the answer read. */
  import_ms: number;
  status: number;
  accepted: number | null;
  /** RSS sampled every 250 ms during the import request, in the service that imported it. */
  import_rss_peak_mib: number;
  /** RSS of the service that runs the campaign, just before the campaign was resumed. */
  running_rss_start_mib: number;
  /** RSS sampled every second while the campaign ran. */
  running_rss: { seconds: number; mib: number }[];
  running_rss_peak_mib: number;
  /** Attempts made while watched, by the fresh service: the campaign did run. */
  attempts: number;
}

export interface CampaignsPhaseResult {
  runs: CampaignRun[];
  figures: Figure[];
}

const API = '/api/phone';

/**
 * Imports a 10,000- and then a 100,000-recipient campaign as JSON, timing each whole request, and
 * watches each while it runs (paced at 20 calls a second, 50 live), sampling the service's RSS.
 *
 * The two are measured apart. Parsing and validating a 6 MiB JSON body grows V8's heap, which the
 * process keeps after the request (RSS rarely shrinks), so a campaign watched in the process that
 * imported it shows its import, not its run. Each campaign is therefore imported and paused at once
 * (the importing service may place a few calls before the pause), that service is stopped, and the
 * campaign is resumed in a fresh service on the same database, whose RSS is sampled while it runs: the engine claims recipients from the database a few at a
 * time, so the larger campaign must not need more memory than the smaller. Each campaign is
 * paused after it was watched.
 */
export async function measureCampaigns(ctx: CampaignsPhaseContext): Promise<CampaignsPhaseResult> {
  const runs: CampaignRun[] = [];
  for (const size of [10_000, CAMPAIGN_TARGETS.importRecipients]) runs.push(await importAndRun(ctx, size));
  const [small, large] = runs;
  const growth = large.running_rss_peak_mib - small.running_rss_peak_mib;
  const during = (run: CampaignRun) => run.running_rss_peak_mib - run.running_rss_start_mib;
  const figures: Figure[] = [
    {
      name: `Import ${large.recipients} recipients (JSON, one request)`,
      value:
        `${(large.import_ms / 1000).toFixed(1)} s (${large.accepted ?? 'no'} accepted, HTTP ${large.status}); ` +
        `RSS peak while importing ${small.recipients} vs ${large.recipients}: ${small.import_rss_peak_mib} vs ${large.import_rss_peak_mib} MiB`,
      target: `< ${CAMPAIGN_TARGETS.importSeconds} s`,
      met: large.status === 201 && large.accepted === large.recipients && large.import_ms < CAMPAIGN_TARGETS.importSeconds * 1000,
    },
    {
      name: `RSS while a campaign runs, ${small.recipients} vs ${large.recipients} recipients`,
      value:
        `peak ${small.running_rss_peak_mib} vs ${large.running_rss_peak_mib} MiB, ` +
        `+${during(small).toFixed(1)} and +${during(large).toFixed(1)} MiB over the service's RSS before it ran ` +
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
  const importer = await ctx.startService();
  let status: number;
  let created: { id?: string; import_report?: { accepted?: number } };
  let importPeak: number;
  let importMs: number;
  try {
    ctx.log(`campaigns: importing ${size} recipients (${(body.length / 2 ** 20).toFixed(1)} MiB of JSON)`);
    importPeak = importer.rssMiB();
    const importTimer = setInterval(() => (importPeak = Math.max(importPeak, importer.rssMiB())), 250);
    const started = performance.now();
    try {
      const res = await fetch(`${importer.base}${API}/campaigns`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${importer.token}`, 'Content-Type': 'application/json' },
        body,
      });
      status = res.status;
      created = (await res.json()) as typeof created;
    } finally {
      clearInterval(importTimer);
    }
    importMs = Math.round(performance.now() - started);
    ctx.log(`campaigns: ${size} imported in ${importMs} ms (HTTP ${status}), RSS peak ${importPeak} MiB`);
    if (status === 201 && created.id) await api(importer, 'POST', `/campaigns/${created.id}/pause`);
  } finally {
    await importer.stop();
  }
  const run: CampaignRun = {
    recipients: size,
    import_ms: importMs,
    status,
    accepted: created.import_report?.accepted ?? null,
    import_rss_peak_mib: importPeak,
    running_rss_start_mib: NaN,
    running_rss: [],
    running_rss_peak_mib: NaN,
    attempts: 0,
  };
  if (status !== 201 || !created.id) return run;
  const runner = await ctx.startService();
  try {
    run.running_rss_start_mib = runner.rssMiB();
    const before = ((await api(runner, 'GET', `/campaigns/${created.id}`)).spend as { attempts?: number } | undefined)?.attempts ?? 0;
    await api(runner, 'POST', `/campaigns/${created.id}/resume`);
    const watchStarted = Date.now();
    while (Date.now() - watchStarted < ctx.seconds * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      run.running_rss.push({ seconds: Math.round((Date.now() - watchStarted) / 1000), mib: runner.rssMiB() });
    }
    run.running_rss_peak_mib = Math.max(...run.running_rss.map((s) => s.mib));
    const progress = await api(runner, 'GET', `/campaigns/${created.id}`);
    const counts = (progress.counts ?? {}) as Record<string, number>;
    run.attempts = ((progress.spend as { attempts?: number } | undefined)?.attempts ?? 0) - before;
    ctx.log(
      `campaigns: ${size} ran ${ctx.seconds} s in a fresh service: ${JSON.stringify(counts)}, ` +
        `RSS ${run.running_rss_start_mib} MiB before, peak ${run.running_rss_peak_mib} MiB`,
    );
    // paused, not cancelled: cancelling rewrites every recipient left, a statement of its own
    await api(runner, 'POST', `/campaigns/${created.id}/pause`);
  } finally {
    await runner.stop();
  }
  return run;
}

async function api(service: CampaignService, method: string, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${service.base}${API}${path}`, { method, headers: { Authorization: `Bearer ${service.token}` } });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}
