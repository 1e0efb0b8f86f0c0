import type { TestApp } from './test-app';

/**
 * A decoded JSON response body as a spec reads it: untyped on purpose, since specs assert on what
 * the wire carries, including fields and shapes the DTOs do not promise.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the one untyped JSON body for specs
export type JsonBody = any;

export interface Reply<T = JsonBody> {
  status: number;
  body: T;
  headers: Headers;
}

/** One JSON request to the test app, as a client would send it; `token` null or undefined sends none. */
export async function request<T = JsonBody>(
  t: Pick<TestApp, 'baseUrl'>,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

/** The fields an error response names in its details. */
export function fieldsOf(body: { details?: { field?: string }[] }): (string | undefined)[] {
  return (body.details ?? []).map((d) => d.field);
}
