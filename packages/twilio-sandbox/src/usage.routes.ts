import { Router } from 'express';
import type { SandboxContext } from './sandbox-context';
import type { UsageCategory } from './sandbox-state';
import { API_VERSION, ApiError, formatAmount, isoDate, notFound, one, page, queryOf, type Form } from './wire';

type Category = UsageCategory | 'totalprice';

const CATEGORIES: Record<Category, { description: string; countUnit: string; usageUnit: string }> = {
  calls: { description: 'Voice Minutes', countUnit: 'calls', usageUnit: 'minutes' },
  phonenumbers: { description: 'Phone Numbers', countUnit: 'numbers', usageUnit: 'numbers' },
  sms: { description: 'SMS Messages', countUnit: 'messages', usageUnit: 'segments' },
  totalprice: { description: 'Total Price', countUnit: '', usageUnit: 'usd' },
};

const SUBRESOURCES: Record<string, string> = {
  AllTime: 'all_time',
  Daily: 'daily',
  LastMonth: 'last_month',
  Monthly: 'monthly',
  ThisMonth: 'this_month',
  Today: 'today',
  Yearly: 'yearly',
  Yesterday: 'yesterday',
};

interface Period {
  start: Date;
  end: Date;
}

const DAY = 86_400_000;
const utcDay = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));

function parseDate(value: string | undefined, today: Date, key: string): Date | undefined {
  if (value === undefined) return undefined;
  const offset = /^([+-]\d+)days$/.exec(value);
  if (offset) return new Date(today.getTime() + Number(offset[1]) * DAY);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new ApiError(400, 20001, `Invalid value for ${key}: ${value}`);
  return new Date(`${value}T00:00:00Z`);
}

/** The periods a subresource reports, one record per category and period. */
function periods(sub: string | null, query: Form, created: Date, now: Date): Period[] {
  const today = utcDay(now);
  const y = today.getUTCFullYear();
  const m = today.getUTCMonth();
  const start = parseDate(one(query, 'StartDate'), today, 'StartDate');
  const end = parseDate(one(query, 'EndDate'), today, 'EndDate');
  const range = { start: start ?? utcDay(created), end: end ?? today };
  const split = (next: (d: Date) => Date, align: (d: Date) => Date): Period[] => {
    const out: Period[] = [];
    for (let s = align(range.start); s <= range.end; s = next(s)) {
      const e = new Date(next(s).getTime() - DAY);
      out.push({ start: s < range.start ? range.start : s, end: e > range.end ? range.end : e });
    }
    return out;
  };
  switch (sub) {
    case null:
    case 'AllTime':
      return [range];
    case 'Today':
      return [{ start: today, end: today }];
    case 'Yesterday': {
      const d = new Date(today.getTime() - DAY);
      return [{ start: d, end: d }];
    }
    case 'ThisMonth':
      return [{ start: new Date(Date.UTC(y, m, 1)), end: today }];
    case 'LastMonth':
      return [{ start: new Date(Date.UTC(y, m - 1, 1)), end: new Date(Date.UTC(y, m, 0)) }];
    case 'Daily':
      return split(
        (d) => new Date(d.getTime() + DAY),
        (d) => d,
      );
    case 'Monthly':
      return split(
        (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)),
        (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)),
      );
    case 'Yearly':
      return split(
        (d) => new Date(Date.UTC(d.getUTCFullYear() + 1, 0, 1)),
        (d) => new Date(Date.UTC(d.getUTCFullYear(), 0, 1)),
      );
    default:
      throw new ApiError(404, 20404, `Unknown usage subresource ${sub}`);
  }
}

export function usageRoutes(ctx: SandboxContext): Router {
  const router = Router({ mergeParams: true });

  const records = (sub: string | null, query: Form) => {
    const now = ctx.scheduler.now();
    const wanted = one(query, 'Category');
    const categories = (Object.keys(CATEGORIES) as Category[]).filter((c) => !wanted || c === wanted);
    const base = `${ctx.views.root}/Usage/Records`;
    const out: Record<string, unknown>[] = [];
    for (const category of categories) {
      for (const period of periods(sub, query, ctx.state.createdAt, now)) {
        const entries = ctx.state.usage.filter(
          (e) => (category === 'totalprice' || e.category === category) && utcDay(e.at) >= period.start && utcDay(e.at) <= period.end,
        );
        const price = entries.reduce((sum, e) => sum + e.price, 0);
        const count = entries.reduce((sum, e) => sum + e.count, 0);
        const usage = entries.reduce((sum, e) => sum + e.usage, 0);
        const info = CATEGORIES[category];
        const dates = `StartDate=${isoDate(period.start)}&EndDate=${isoDate(period.end)}`;
        out.push({
          account_sid: ctx.accountSid,
          api_version: API_VERSION,
          as_of: `${now.toISOString().slice(0, 19)}+00:00`,
          category,
          count: category === 'totalprice' ? null : String(count),
          count_unit: info.countUnit,
          description: info.description,
          end_date: isoDate(period.end),
          price: formatAmount(price, 5),
          price_unit: 'usd',
          start_date: isoDate(period.start),
          subresource_uris: Object.fromEntries(
            Object.entries(SUBRESOURCES).map(([name, key]) => [key, `${base}/${name}.json?Category=${category}`]),
          ),
          uri: `${base}${sub ? `/${sub}` : ''}.json?Category=${category}&${dates}`,
          usage: category === 'totalprice' ? formatAmount(price, 5) : String(usage),
          usage_unit: info.usageUnit,
        });
      }
    }
    return out;
  };

  router.get('/Usage/Records.json', (req, res) => {
    const query = queryOf(req);
    res.status(200).json(page(`${ctx.views.root}/Usage/Records.json`, 'usage_records', records(null, query), query, { withTotals: true }));
  });

  router.get('/Usage/Records/:sub', (req, res) => {
    const sub = String(req.params.sub).replace(/\.json$/, '');
    if (!(sub in SUBRESOURCES)) throw notFound(req.path);
    const query = queryOf(req);
    const path = `${ctx.views.root}/Usage/Records/${sub}.json`;
    res.status(200).json(page(path, 'usage_records', records(sub, query), query, { withTotals: true }));
  });

  router.get('/Balance.json', (_req, res) => {
    res.status(200).json({
      account_sid: ctx.accountSid,
      balance: formatBalance(ctx.state.balance),
      currency: 'USD',
    });
  });

  return router;
}

/** At least two decimals, up to five, without trailing zeros: "20.00", "19.9925". */
export function formatBalance(units: number): string {
  return formatAmount(units, 5).replace(/(\.\d\d\d*?)0+$/, '$1');
}
