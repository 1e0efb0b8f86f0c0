import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';

export const API_VERSION = '2010-04-01';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `Tue, 31 Aug 2010 20:36:28 +0000`, the format of every 2010 API date. */
export function rfc2822(date: Date | null | undefined): string | null {
  if (!date) return null;
  return (
    `${DAYS[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** Money is kept in integer units of 1/100000 USD, the precision Twilio prints prices with. */
export const MICRO = 100_000;

export function formatPrice(units: number): string {
  const sign = units > 0 ? '-' : '';
  return sign + (Math.abs(units) / MICRO).toFixed(5);
}

export function formatAmount(units: number, decimals = 2): string {
  return (units / MICRO).toFixed(decimals);
}

export function parseAmount(value: string): number {
  return Math.round(Number(value) * MICRO);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

export function notFound(resource: string): ApiError {
  return new ApiError(404, 20404, `The requested resource ${resource} was not found`);
}

export type FormValue = string | string[];
export type Form = Record<string, FormValue>;

/** Form bodies and queries keep repeated keys (StatusCallbackEvent, MediaUrl) as arrays. */
export function parseForm(text: string): Form {
  const form: Form = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = form[key];
    if (existing === undefined) form[key] = value;
    else form[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return form;
}

export function bodyOf(req: Request): Form {
  return parseForm(typeof req.body === 'string' ? req.body : '');
}

export function queryOf(req: Request): Form {
  const at = req.originalUrl.indexOf('?');
  return at < 0 ? {} : parseForm(req.originalUrl.slice(at + 1));
}

export function one(form: Form, key: string): string | undefined {
  const value = form[key];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** Repeated keys and space-separated lists (as Twilio's docs write them) both arrive here. */
export function many(form: Form, key: string): string[] {
  const value = form[key];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/\s+/)).filter(Boolean);
}

export function bool(form: Form, key: string): boolean | undefined {
  const value = one(form, key);
  if (value === undefined) return undefined;
  return value.toLowerCase() === 'true';
}

export function int(form: Form, key: string, fallback: number, min: number, max: number): number {
  const value = one(form, key);
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ApiError(400, 20001, `Invalid value for ${key}: ${value}`);
  }
  return n;
}

/** Filters kept in next/previous page links, in the order they arrived. */
function filterQuery(query: Form): URLSearchParams {
  const kept = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (key === 'Page' || key === 'PageSize' || key === 'PageToken') continue;
    for (const v of Array.isArray(value) ? value : [value]) kept.append(key, v);
  }
  return kept;
}

export interface PageOptions {
  withTotals?: boolean;
}

/** Twilio's list envelope; `next_page_uri` carries the filters and is null on the last page. */
export function page<T extends object>(
  path: string,
  key: string,
  items: T[],
  query: Form,
  opts: PageOptions = {},
): Record<string, unknown> {
  const pageSize = int(query, 'PageSize', 50, 1, 1000);
  const pageIndex = int(query, 'Page', 0, 0, Number.MAX_SAFE_INTEGER);
  const startIndex = pageIndex * pageSize;
  const slice = items.slice(startIndex, startIndex + pageSize);
  const link = (index: number, token?: string) => {
    const q = filterQuery(query);
    q.set('PageSize', String(pageSize));
    q.set('Page', String(index));
    if (token) q.set('PageToken', token);
    return `${path}?${q.toString()}`;
  };
  const sidOf = (item: T | undefined) => (item as { sid?: unknown } | undefined)?.sid;
  const last = sidOf(slice[slice.length - 1]);
  const first = sidOf(slice[0]);
  const hasNext = startIndex + pageSize < items.length;
  const envelope: Record<string, unknown> = {
    [key]: slice,
    end: slice.length ? startIndex + slice.length - 1 : 0,
    first_page_uri: link(0),
    next_page_uri: hasNext ? link(pageIndex + 1, typeof last === 'string' ? `PA${last}` : undefined) : null,
    page: pageIndex,
    page_size: pageSize,
    previous_page_uri: pageIndex > 0 ? link(pageIndex - 1, typeof first === 'string' ? `PB${first}` : undefined) : null,
    start: slice.length ? startIndex : 0,
    uri: link(pageIndex),
  };
  if (opts.withTotals) {
    const numPages = Math.max(1, Math.ceil(items.length / pageSize));
    envelope.last_page_uri = link(numPages - 1);
    envelope.num_pages = numPages;
    envelope.total = items.length;
  }
  return envelope;
}

function parseFilterDate(key: string, raw: string): { at: number; dateOnly: boolean } {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  const at = Date.parse(dateOnly ? `${raw}T00:00:00Z` : raw);
  if (Number.isNaN(at)) throw new ApiError(400, 20001, `Invalid value for ${key}: ${raw}`);
  return { at, dateOnly };
}

/**
 * `StartTime`, `StartTime>` (on or after) and `StartTime<` (on or before), with a date or a datetime.
 * The exact form matches the whole UTC day: the official libraries send a date as its midnight
 * date-time (`2026-12-01T00:00:00Z`), and Twilio answers with that day's records.
 */
export function dateFilter(query: Form, key: string): (value: Date | null) => boolean {
  const checks: ((t: number) => boolean)[] = [];
  const day = 86_400_000;
  const exact = one(query, key);
  if (exact !== undefined) {
    const { at } = parseFilterDate(key, exact);
    const dayStart = at - (at % day);
    checks.push((t) => t >= dayStart && t < dayStart + day);
  }
  const after = one(query, `${key}>`);
  if (after !== undefined) {
    const { at } = parseFilterDate(key, after);
    checks.push((t) => t >= at);
  }
  const before = one(query, `${key}<`);
  if (before !== undefined) {
    const { at, dateOnly } = parseFilterDate(key, before);
    checks.push(dateOnly ? (t) => t < at + day : (t) => t <= at);
  }
  return (value) => {
    if (checks.length === 0) return true;
    if (!value) return false;
    const t = Math.floor(value.getTime() / 1000) * 1000;
    return checks.every((check) => check(t));
  };
}
