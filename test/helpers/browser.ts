/**
 * A real browser for the console tests: Debian's Chromium, driven headless by playwright-core
 * (nothing is downloaded). A missing browser fails with the command that installs it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.FAAS_CHROMIUM ?? '/usr/bin/chromium';

export async function requireChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`npm run services:up\` (it runs \`apt-get install -y chromium\`)`,
    );
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** Signs in through the console's own login form, as a person would. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/ui`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('main[data-page="overview"]').waitFor();
}

/** Milliseconds from asking for `url` until `selector` is visible. */
export async function timeUntil(page: Page, url: string, selector: string): Promise<number> {
  const [ms] = await timeUntilEach(page, url, [selector]);
  return ms as number;
}

/** Milliseconds from asking for `url` until each of `selectors` is visible, in turn. */
export async function timeUntilEach(page: Page, url: string, selectors: string[]): Promise<number[]> {
  const t0 = performance.now();
  await page.goto(url);
  const out: number[] = [];
  for (const selector of selectors) {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout: 20_000 });
    out.push(Math.round(performance.now() - t0));
  }
  return out;
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

/**
 * Runs axe-core on the page as it is. The page's context must bypass the console's CSP
 * (`bypassCSP: true`): axe is injected as an inline script.
 */
export async function axe(page: Page): Promise<Violation[]> {
  await page.addScriptTag({ content: AXE });
  return page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length })))`);
}
