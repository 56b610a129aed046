// Debian's chromium (scripts/install-browser.sh installs it with apt), driven headless by
// playwright-core: for the browser tests and the web benchmark. Nothing is downloaded.
import { execFileSync } from "node:child_process";

import { chromium, type Browser, type BrowserContext } from "playwright-core";

export function chromiumPath(): string {
  try {
    return execFileSync("which", ["chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("chromium is not installed: run scripts/install-browser.sh");
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox"] });
}

/** A browser with a profile on disk (`userDataDir`), so origin-private storage is real files. */
export function launchPersistentChromium(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, { executablePath: chromiumPath(), headless: true, args: ["--no-sandbox"] });
}
