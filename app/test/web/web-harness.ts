// The browser tests' surroundings: the built site served as static files (its config.json replaced
// by the test's), Debian's chromium driven by playwright-core, axe-core, screenshots.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium, type Browser, type Page } from "playwright-core";

const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DIST_DIR = join(APP_DIR, "web", "dist");
export const SCREENSHOT_DIR = join(APP_DIR, "..", "target", "web", "screenshots");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".svg": "image/svg+xml",
};

export interface StaticSite {
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` on 127.0.0.1 (a free port), with `/config.json` answered from `config` (read per request). */
export async function serveSite(dir: string, config: object | (() => object)): Promise<StaticSite> {
  if (!existsSync(join(dir, "index.html"))) throw new Error(`${dir} has no index.html: run npm run web:build first`);
  const server: Server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path === "/config.json") {
      response.writeHead(200, { "content-type": TYPES[".json"]! }).end(JSON.stringify(typeof config === "function" ? config() : config));
      return;
    }
    const file = normalize(join(dir, path === "/" ? "index.html" : path));
    if (!file.startsWith(dir) || !existsSync(file)) {
      response.writeHead(404).end("not found");
      return;
    }
    response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(await readFile(file));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** Debian's chromium (scripts/install-browser.sh installs it), headless. */
export async function launchChromium(): Promise<Browser> {
  let executablePath: string;
  try {
    executablePath = execFileSync("which", ["chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("chromium is not installed: run scripts/install-browser.sh");
  }
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
}

const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: await AXE_SOURCE });
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
