import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import type { ServiceModule } from '../../src/platform/service.js';
import { createEmailService, emailModule } from '../../src/services/email/index.js';
import { sampleReport } from '../lab/fixture.js';
import { startTestSystem, TEST_ADMIN_KEY, TEST_API_KEY, type TestSystem } from '../support/system.js';

/** Debian's chromium (`.ci/run` installs it); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard');
const WAIT_MS = 20_000;

const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) {
  if (process.env.CI === 'true') throw new Error(`no browser at ${CHROMIUM}, and CI=true requires the browser tests`);
  console.warn(`skipping the dashboard browser tests: no browser at ${CHROMIUM} (apt-get install chromium)`);
}

/** Email gives up after three quick attempts, so a dead letter comes within a second. */
const quickEmail: ServiceModule = {
  ...emailModule,
  create: (context) => createEmailService(context, { maxAttempts: 3, backoff: { initialDelayMs: 20, maxDelayMs: 50 } }),
};
const modules = ALL_MODULES.map((module) => (module.name === 'email' ? quickEmail : module));

describe.skipIf(!haveBrowser)('the dashboard, in a real browser against the running system', () => {
  let system: TestSystem;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  const shot = async (name: string) => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  };
  const pay = async (card: string) => {
    await page.getByLabel('Test card').selectOption(card);
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
  };
  const effect = (group: string) => page.getByTestId(`effect-${group}`);
  /**
   * Waits for a side effect to show as done. If it does not, the failure says what the page showed
   * and what the API knows of the newest payment's side effects, so a failure in CI can be read.
   */
  const effectDone = async (group: string) => {
    try {
      await effect(group).filter({ hasText: 'done' }).waitFor();
    } catch (error) {
      const shown = await effect(group)
        .textContent({ timeout: 1_000 })
        .catch(() => 'nothing');
      const newest = await system.api('GET', '/v1/payments?limit=1');
      const id = newest.body?.data?.[0]?.id;
      const known = id ? (await system.api('GET', `/v1/payments/${id}/side_effects`)).body : 'no payment';
      throw new Error(
        `${group} not shown as done; the page shows ${JSON.stringify(shown)}; the API says ${JSON.stringify(known)}`,
        { cause: error },
      );
    }
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // The page under test is built from the sources as they are now.
    execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts'], {
      stdio: 'inherit',
    });
    // A lab report where the dashboard looks for one.
    const labDir = mkdtempSync(join(tmpdir(), 'syncopate-lab-report-'));
    writeFileSync(join(labDir, 'lab-report.json'), JSON.stringify(sampleReport()));
    writeFileSync(join(labDir, 'lab-report.html'), '<!doctype html><title>Lab report</title><p>the report</p>');
    system = await startTestSystem({ modules, env: { LAB_REPORT_DIR: labDir } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (message) => {
      // A 402 or 404 answer is logged by the browser as a failed resource: expected, not an error of the page.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        consoleErrors.push(message.text());
      }
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    page.setDefaultTimeout(WAIT_MS);
  });

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  it('opens with the keys from the URL fragment, which it then drops from the address bar', async () => {
    await page.goto(`${system.url}/#api_key=${TEST_API_KEY}&admin_key=${TEST_ADMIN_KEY}`);
    await expect.poll(() => new URL(page.url()).hash).toBe('');
    await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
    // The queue figures and the fault knobs come over the stream.
    await page.locator('[data-testid="queues"] tr[data-group="email"]').waitFor();
    await page.getByLabel('email down').waitFor();
    await shot('01-opened');
  });

  it('pays with a good card: succeeded at once, then the email step done in the flow', async () => {
    // Keyboard only: the form is reachable and submits with Enter.
    await page.getByLabel('Test card').focus();
    const focused = () => page.evaluate<string>("document.activeElement?.textContent ?? ''");
    for (let i = 0; i < 10 && (await focused()) !== 'Pay'; i++) await page.keyboard.press('Tab');
    expect(await focused()).toBe('Pay');
    await page.keyboard.press('Enter');
    await page.getByTestId('payment-status').filter({ hasText: 'succeeded' }).waitFor();
    expect(await page.getByTestId('pay-result').textContent()).toMatch(/HTTP 201 · answered in \d/);
    await effectDone('email');
    const sequence = page.getByTestId('sequence');
    // The request, the gateway's answer, the commit, the publish, and each consumer's attempt.
    await expect.poll(() => sequence.locator('[data-kind="response"]').count()).toBeGreaterThanOrEqual(2);
    // Spans reach the page live or when it re-reads the trace after paying: each step may come later.
    await expect.poll(() => sequence.locator('[data-kind="note"]').count()).toBeGreaterThanOrEqual(1);
    // On the embedded transport no relay publishes: the payment's commit put the event on the queue.
    await expect
      .poll(async () =>
        (await sequence.locator('[data-kind="publish"]').allTextContents()).some((text) =>
          text.includes('payment.succeeded queued by the same commit'),
        ),
      )
      .toBe(true);
    expect(await sequence.locator('[data-group="email"][data-outcome="ack"]').count()).toBe(1);
    await effectDone('analytics');
    expect(await sequence.textContent()).toContain('201 succeeded');
    await shot('02-paid-succeeded');
  });

  it('pays with a declined card: declined, with the reason', async () => {
    await pay('4000000000000002');
    await page.getByTestId('payment-status').filter({ hasText: 'declined' }).waitFor();
    expect(await page.getByTestId('pay-result').textContent()).toContain('card_declined');
    expect(await page.getByTestId('sequence').textContent()).toContain('402 declined');
    await shot('03-declined');
  });

  it('email down: the payment still succeeds, its receipt is retried, then dead-lettered', async () => {
    await page.getByLabel('email down').check();
    await page.locator('#faults tr.down').filter({ hasText: 'email' }).waitFor();
    expect((await system.api('GET', '/v1/admin/faults', { key: TEST_ADMIN_KEY })).body.data).toContainEqual(
      expect.objectContaining({ service: 'email', down: true }),
    );
    await pay('4242424242424242');
    await page.getByTestId('payment-status').filter({ hasText: 'succeeded' }).waitFor();
    await effect('email').filter({ hasText: 'dead-lettered' }).waitFor();
    const sequence = page.getByTestId('sequence');
    // Each failed attempt is in the flow, with its error; the last one dead-lettered it.
    expect(await sequence.locator('[data-group="email"][data-outcome="retry"]').count()).toBe(2);
    expect(await sequence.locator('[data-group="email"][data-outcome="dead-letter"]').count()).toBe(1);
    expect(await effect('email').textContent()).toContain('injected fault in email (down)');
    // The queue view: retries counted, one dead letter, and the letter with its last error.
    await page.getByTestId('dead-email').filter({ hasText: '1' }).waitFor();
    const row = page.locator('[data-testid="queues"] tr[data-group="email"]');
    expect(Number(await row.locator('td').nth(5).textContent())).toBeGreaterThanOrEqual(2);
    await page.getByRole('button', { name: 'Dead letters of email' }).click();
    const letter = page.getByTestId('dead-letters').locator('li');
    await letter.filter({ hasText: 'Last error: injected fault in email (down)' }).waitFor();
    await letter.getByRole('button', { name: /^Inspect/ }).click();
    expect(await page.locator('.inspect pre').textContent()).toContain('payment.succeeded');
    await shot('04-email-down-dead-lettered');
  });

  it('email back, replayed from the dead-letter queue: delivered', async () => {
    await page.getByLabel('email down').uncheck();
    await page.locator('#faults tr.down').waitFor({ state: 'detached' });
    await page
      .getByTestId('dead-letters')
      .locator('li')
      .getByRole('button', { name: /^Replay/ })
      .click();
    await page.getByTestId('dlq-message').filter({ hasText: 'Replayed' }).waitFor();
    await effectDone('email');
    expect(await page.getByTestId('sequence').locator('[data-group="email"][data-outcome="ack"]').count()).toBe(1);
    await page.getByTestId('dead-email').filter({ hasText: /^0$/ }).waitFor();
    await page.getByTestId('dead-letters').getByText('None.').waitFor();
    await page.locator('#flow').scrollIntoViewIfNeeded();
    await shot('05-replayed-delivered');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-1280x800.png') });
  });

  it('requests a report: 202, then ready', async () => {
    await page.getByRole('button', { name: 'Request a report of the last 24 hours' }).click();
    const report = page.locator('#analytics .reports li').first();
    await report.filter({ hasText: '202 accepted' }).waitFor();
    await report.filter({ hasText: 'ready' }).waitFor();
    expect(await page.locator('#analytics').textContent()).toMatch(/USD\d+/);
    await shot('06-analytics-report');
  });

  it("shows the latest lab report's verdicts and charts, and links to its HTML page", async () => {
    const lab = page.locator('#lab');
    await lab.locator('table.verdicts tbody tr').first().waitFor();
    const report = sampleReport();
    const aspects = await lab.locator('table.verdicts tbody th').allTextContents();
    expect(aspects).toEqual(report.verdicts.map((v) => v.aspect));
    // A chart per verdict, under the verdict's status, a row per check with the check's status.
    const charts = lab.locator('figure.chart');
    expect(await charts.evaluateAll((figures) => figures.map((f) => f.getAttribute('data-status')))).toEqual(
      report.verdicts.map((v) => v.status),
    );
    const rows = await charts
      .first()
      .locator('g.row')
      .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-status')));
    const latency = report.verdicts[0]?.checks ?? [];
    expect(rows).toEqual(
      [...latency.filter((c) => c.primary), ...latency.filter((c) => !c.primary)].map((c) => c.status),
    );
    expect(await lab.locator('table.costs tbody tr').count()).toBe(report.costs.length);
    const link = lab.getByRole('link', { name: 'the full report with its charts' });
    const html = await fetch(new URL((await link.getAttribute('href')) ?? '', system.url));
    expect(await html.text()).toContain('the report');
    await lab.scrollIntoViewIfNeeded();
    await shot('07-lab');
  });

  it('fits a phone-width screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot('08-phone');
    expect(consoleErrors).toEqual([]);
  });
});
