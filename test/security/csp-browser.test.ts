import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { startTestSystem, TEST_ADMIN_KEY, TEST_API_KEY, type TestSystem } from '../support/system.js';

/** Debian's chromium; CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) {
  if (process.env.CI === 'true') throw new Error(`no browser at ${CHROMIUM}, and CI=true requires the browser tests`);
  console.warn(`skipping the CSP browser tests: no browser at ${CHROMIUM} (apt-get install chromium)`);
}

/**
 * A self-contained page like the lab's report: inline style, inline data, inline script. The script
 * shows that it ran, and whether it could read this origin's session storage (where the dashboard
 * keeps its keys).
 */
const LAB_REPORT = `<!doctype html><html><head><title>Lab report</title><style>body { color: rgb(1, 2, 3) }</style></head>
<body><p id="ran">no script</p><p id="storage"></p>
<script type="application/json" id="lab-data">{"verdicts":[]}</script>
<script>
  document.getElementById('ran').textContent = 'script ran: ' + JSON.parse(document.getElementById('lab-data').textContent).verdicts.length;
  let read;
  try { read = 'read: ' + sessionStorage.getItem('syncopate.keys'); } catch (error) { read = 'refused: ' + error.name; }
  document.getElementById('storage').textContent = read;
</script></body></html>`;

/** Every CSP violation the page reports, as the browser sees them. */
async function watchViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeFunction('reportViolation', (text: string) => violations.push(text));
  // Page code, as text: this project's TypeScript knows no DOM.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) =>
      window.reportViolation(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline')));`,
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/.test(message.text())) violations.push(message.text());
  });
  return violations;
}

describe.skipIf(!haveBrowser)('finding 6: the security headers, in a real browser', () => {
  let system: TestSystem;
  let browser: Browser;
  beforeAll(async () => {
    const labDir = mkdtempSync(join(tmpdir(), 'syncopate-csp-lab-'));
    writeFileSync(join(labDir, 'lab-report.html'), LAB_REPORT);
    system = await startTestSystem({ modules: ALL_MODULES, env: { LAB_REPORT_DIR: labDir } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  it('the dashboard runs under its CSP without a single violation, live stream included', async () => {
    const page = await browser.newPage();
    const violations = await watchViolations(page);
    await page.goto(`${system.url}/#api_key=${TEST_API_KEY}&admin_key=${TEST_ADMIN_KEY}`);
    await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.getByTestId('effect-email').filter({ hasText: 'done' }).waitFor({ timeout: 20_000 });
    expect(violations).toEqual([]);
    await page.close();
  });

  it('the API reference (/docs) renders every operation under the same CSP', async () => {
    const page = await browser.newPage();
    const violations = await watchViolations(page);
    await page.goto(`${system.url}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('the lab report runs its inline script, sandboxed: it cannot read the keys the dashboard keeps', async () => {
    const page = await browser.newPage();
    await page.goto(`${system.url}/#api_key=${TEST_API_KEY}&admin_key=${TEST_ADMIN_KEY}`);
    await expect
      .poll(() => page.evaluate<string | null>("sessionStorage.getItem('syncopate.keys')"))
      .toContain(TEST_API_KEY);
    await page.goto(`${system.url}/v1/dashboard/lab_report.html`);
    await expect.poll(() => page.textContent('#ran')).toBe('script ran: 0');
    expect(await page.textContent('#storage')).toBe('refused: SecurityError');
    expect(await page.evaluate<string>('getComputedStyle(document.body).color')).toBe('rgb(1, 2, 3)');
    await page.close();
  });

  it('no other site may frame the dashboard', async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/frame-ancestors|Refused to display/.test(message.text())) blocked.push(message.text());
    });
    await page.setContent(`<iframe src="${system.url}/"></iframe>`);
    await expect.poll(() => blocked.length, { timeout: 10_000 }).toBeGreaterThan(0);
    await page.close();
  });
});
