// Shared by the end-to-end suites: running the CLI in-process as a user runs it (with --url and a
// keypair file), extra wallets, and waiting for a condition on the chain.
import { join } from "node:path";
import { Writable } from "node:stream";

import type { Address } from "@solana/kit";

import { createKeypairFile, type LoadedWallet } from "../../src/client/index.js";
import { runCli } from "../../src/cli/program.js";
import { provisionMarket } from "../../src/localnet/provision.js";
import type { LocalStack } from "../../src/localnet/stack.js";
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

/**
 * People who use the CLI with keypair files of their own: `wallet` creates one in `<dir>/people` and
 * funds it with SOL and test USDC, `as` runs the CLI as that person. `world` is read at each call, so
 * the suite may start its stack in `before`.
 */
export function cliPeople(world: () => { dir: string; stack: LocalStack; store: ContentStore }) {
  const keypairs = new Map<Address, string>();
  return {
    async wallet(name: string, usdc: bigint): Promise<LoadedWallet> {
      const { dir, stack } = world();
      const created = await party(join(dir, "people"), name);
      keypairs.set(created.signer.address, join(dir, "people", `${name}.json`));
      await provisionMarket(stack.connection, {
        operator: stack.wallets.operator.wallet.signer,
        usdcMint: stack.market.usdc.address,
        wallets: [{ address: created.signer.address, usdc }],
      });
      return created;
    },
    /** One more person whose keypair file already exists (the stack's operator, say). */
    known(address: Address, keypairPath: string): void {
      keypairs.set(address, keypairPath);
    },
    as(who: LoadedWallet, argv: readonly string[], signal?: AbortSignal): Promise<CliRun> {
      const keypair = keypairs.get(who.signer.address);
      if (!keypair) throw new Error(`no keypair file for ${who.signer.address}`);
      const { stack, store } = world();
      return runCliAt(stack.url, keypair, argv, { store, signal });
    },
  };
}

export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
