// The browser tests' surroundings: the built site served as the local stack serves it (its
// config.json and Content Security Policy the test's), Debian's chromium driven by playwright-core, axe-core, screenshots.
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { Page } from "playwright-core";

export { launchChromium } from "../../src/localnet/browser.js";

const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export { WEB_DIST_DIR as DIST_DIR, serveSite, type StaticSite } from "../../src/localnet/site.js";
export const SCREENSHOT_DIR = join(APP_DIR, "..", "target", "web", "screenshots");

const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated, not added as a <script>: the site's Content Security Policy refuses inline scripts.
  await page.evaluate(await AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: unknown[] }[] }> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Everything the page keeps: web storage, cookies, IndexedDB database names, the URL. */
export async function pageStorage(page: Page): Promise<string> {
  // As source text: the TypeScript loader's `__name` helper does not exist in the page.
  const stored = await page.evaluate<string>(`(async () => {
    const dump = (s) => Array.from({ length: s.length }, (_, i) => s.key(i) + "=" + s.getItem(s.key(i)));
    const databases = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name ?? "") : [];
    return [...dump(localStorage), ...dump(sessionStorage), document.cookie, ...databases, location.href].join("\\n");
  })()`);
  const cookies = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`);
  return [stored, ...cookies].join("\n");
}

/** Photographs the page as `name` and fails on any serious or critical axe-core violation. */
export async function checkAccessible(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  const violations = await seriousAccessibilityViolations(page);
  if (violations.length > 0) throw new Error(`${name}: accessibility violations ${JSON.stringify(violations)}`);
}

/** Connects the test wallet `walletName` (after disconnecting whichever is connected). */
export async function connectWallet(page: Page, walletName: string): Promise<void> {
  const disconnect = page.getByRole("button", { name: "Disconnect" });
  if (await disconnect.count()) await disconnect.click();
  await page.getByRole("button", { name: `Connect ${walletName}` }).click();
  await page.getByRole("button", { name: "Disconnect" }).waitFor();
}
