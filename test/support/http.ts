import type { TestApp } from './test-app';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** One JSON request to the test app, as a client would send it; `token` null or undefined sends none. */
export async function request<T = any>(
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
