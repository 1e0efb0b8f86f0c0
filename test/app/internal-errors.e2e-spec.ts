import { DataSource } from 'typeorm';
import { TestApp, startTestApp } from '../support/test-app';

describe('an unexpected failure', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    const db = t.app.get(DataSource);
    if (!db.isInitialized) await db.initialize();
    await t?.close();
  });

  it('answers 500 with a request id and no stack, SQL or driver message', async () => {
    await t.app.get(DataSource).destroy();
    const res = await fetch(`${t.baseUrl}/api/phone/calls/history?agent_name=x`, {
      headers: { Authorization: `Bearer ${t.token(['phone:view'])}`, 'X-Request-Id': 'boom-1' },
    });
    expect(res.status).toBe(500);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal server error',
      code: 'internal_error',
      request_id: 'boom-1',
    });
    expect(JSON.stringify(body)).not.toMatch(/SELECT|call_records|at .*\.ts|Error:/);
  });
});
