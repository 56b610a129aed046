// Shared by the end-to-end suites: running the CLI in-process as a user runs it (with --url and a
// keypair file), extra wallets, and waiting for a condition on the chain.
import { join } from "node:path";
import { Writable } from "node:stream";

import { createKeypairFile, type LoadedWallet } from "../../src/client/index.js";
import { runCli } from "../../src/cli/program.js";
import type { ContentStore } from "../../src/storage/index.js";

export class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void) {
    this.text += chunk.toString();
    callback();
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `data-market --url <url> --keypair <keypair> …argv` in-process, with its output captured. */
export async function runCliAt(
  url: string,
  keypair: string,
  argv: readonly string[],
  options: { store?: ContentStore; signal?: AbortSignal } = {},
): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(["--url", url, "--keypair", keypair, ...argv], {
    streams: { stdout, stderr },
    store: options.store,
    env: {},
    signal: options.signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A new wallet in `<dir>/<name>.json`. */
export async function party(dir: string, name: string): Promise<LoadedWallet> {
  return createKeypairFile(join(dir, `${name}.json`));
}

export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
