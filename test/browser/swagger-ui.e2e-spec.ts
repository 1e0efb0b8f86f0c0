import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { TestApp, startTestApp } from '../support/test-app';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = resolve(__dirname, '../../test-output');
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Opens an operation, presses "Try it out", optionally replaces the JSON body, executes, returns what the page shows. */
async function tryItOut(page: Page, tag: string, operationId: string, body?: unknown): Promise<{ status: string; text: string }> {
  const op = page.locator(`#operations-${tag}-${operationId}`);
  const tryOut = op.locator('.try-out__btn');
  for (let attempt = 0; attempt < 3 && !(await tryOut.isVisible()); attempt += 1) {
    await op.locator('button.opblock-summary-control').click();
    await tryOut.waitFor({ timeout: 3_000 }).catch(() => undefined);
  }
  await op.locator('.try-out__btn').click();
  if (body !== undefined) await op.locator('textarea.body-param__text').fill(JSON.stringify(body, null, 2));
  await op.locator('button.execute').click();
  const live = op.locator('.live-responses-table .response');
  await live.first().waitFor({ timeout: 15_000 });
  const status = (await live.first().locator('.response-col_status').innerText()).trim();
  const text = await live.first().locator('.response-col_description').innerText();
  return { status, text };
}

describe.skipIf(!existsSync(CHROMIUM))(`Swagger UI in Chromium (skipped when ${CHROMIUM} is absent)`, () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the document at /api/docs-json', async () => {
    const res = await fetch(`${t.baseUrl}/api/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/api/phone/call');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('authorizes with a bearer token and runs "Try it out" on a GET and on placeCall', { timeout: 120_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    page.setDefaultTimeout(15_000);
    mkdirSync(OUTPUT, { recursive: true });
    try {
      await runScenario(page);
    } finally {
      await page.screenshot({ path: resolve(OUTPUT, 'swagger-ui.png'), fullPage: true });
      await page.close();
    }
  });

  async function runScenario(page: Page): Promise<void> {
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`${t.baseUrl}/api/docs`);
    await page.locator('#operations-billing-getBalance').waitFor({ timeout: 20_000 });
    await expect(page.locator('.info .title').innerText()).resolves.toContain('Samsaek Phone Service');

    // Without authorizing, the page shows the 401 the API answers.
    const anonymous = await tryItOut(page, 'billing', 'getBalance');
    expect(anonymous.status).toBe('401');
    expect(anonymous.text).toContain('unauthorized');
    await page.reload();
    await page.locator('#operations-billing-getBalance').waitFor();

    await page.locator('.auth-wrapper button.authorize').click();
    const modal = page.locator('.modal-ux');
    await modal
      .locator('input')
      .first()
      .fill(t.token(['phone:view', 'phone:call']));
    await modal.locator('button.authorize').click();
    await modal.getByRole('button', { name: 'Remove authorization' }).waitFor({ timeout: 5_000 });
    await modal.locator('button.btn-done').click();
    await modal.waitFor({ state: 'detached' });

    const balance = await tryItOut(page, 'billing', 'getBalance');
    expect(balance.status).toBe('200');
    expect(balance.text).toMatch(/"balance"/);
    expect(balance.text).toMatch(/"currency"/);

    const call = await tryItOut(page, 'calls', 'placeCall', {
      to: '+14155550100',
      message: 'Hello from the Swagger UI test',
    });
    expect(call.status).toBe('201');
    expect(call.text).toMatch(/"sid": "CA[0-9a-f]{32}"/);
    expect(call.text).toContain('"to": "+14155550100"');

    // "Try it out" as prefilled, nothing typed: the body is the first example, the filters are empty.
    // A fresh page, so nothing typed above remains; the authorization persists.
    await page.reload();
    await page.locator('#operations-calls-placeCall').waitFor();
    const prefilledCall = await tryItOut(page, 'calls', 'placeCall');
    expect(prefilledCall.status).toBe('201');
    expect(prefilledCall.text).toMatch(/"sid": "CA[0-9a-f]{32}"/);
    const history = await tryItOut(page, 'calls', 'getCallHistory');
    expect(history.status).toBe('200');
    const shown = JSON.parse(history.text.slice(history.text.indexOf('{'), history.text.lastIndexOf('}') + 1)) as {
      calls: { sid: string }[];
    };
    expect(shown.calls.length).toBe(2);

    expect(consoleErrors).toEqual([]);
  }
});
