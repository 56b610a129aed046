// Runs the data-market CLI in-process against the real program in an embedded SVM (LiteSVM) and a
// real embedded IPFS node, with wallets in Solana CLI keypair files: what a user types, minus the
// process boundary. Output is captured; each run returns its exit code.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";

import { createKeypairFile, type LoadedWallet } from "../src/client/index.js";
import { SvmConnection } from "../src/client/svm.js";
import { runCli } from "../src/cli/program.js";
import { provisionMarket, USDC, type ProvisionedMarket } from "../src/localnet/provision.js";
import { HeliaContentStore, type ContentStore } from "../src/storage/index.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void) {
    this.text += chunk.toString();
    callback();
  }
}

export interface Party {
  wallet: LoadedWallet;
  keypairPath: string;
}

export class CliWorld {
  private constructor(
    readonly dir: string,
    readonly connection: SvmConnection,
    readonly store: ContentStore,
    readonly operator: Party,
    readonly owner: Party,
    readonly buyer: Party,
    readonly market: ProvisionedMarket,
  ) {}

  static async start(): Promise<CliWorld> {
    const dir = await mkdtemp(join(tmpdir(), "data-market-cli-"));
    const party = async (name: string): Promise<Party> => {
      const keypairPath = join(dir, `${name}.json`);
      return { wallet: await createKeypairFile(keypairPath), keypairPath };
    };
    const operator = await party("operator");
    const owner = await party("owner");
    const buyer = await party("buyer");
    const connection = await SvmConnection.start({ upgradeAuthority: operator.wallet.signer.address });
    const market = await provisionMarket(connection, {
      operator: operator.wallet.signer,
      wallets: [
        { address: owner.wallet.signer.address, usdc: 0n },
        { address: buyer.wallet.signer.address, usdc: 1_000n * USDC },
      ],
    });
    const store = await HeliaContentStore.open({ directory: join(dir, "ipfs") });
    return new CliWorld(dir, connection, store, operator, owner, buyer, market);
  }

  /** Another funded party (its own keypair file). */
  async party(name: string, usdc = 0n): Promise<Party> {
    const keypairPath = join(this.dir, `${name}.json`);
    const wallet = await createKeypairFile(keypairPath);
    await provisionMarket(this.connection, {
      operator: this.operator.wallet.signer,
      usdcMint: this.market.usdc.address,
      wallets: [{ address: wallet.signer.address, usdc }],
    });
    return { wallet, keypairPath };
  }

  /**
   * Runs `data-market --keypair <party> ...argv` with the shared IPFS node, or `options.store`, or
   * (`store: null`) the node the command line itself describes (--ipfs, --ipfs-peer...).
   */
  async run(party: Party, argv: readonly string[], options: { store?: ContentStore | null; signal?: AbortSignal } = {}): Promise<CliRun> {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runCli(["--keypair", party.keypairPath, ...argv], {
      streams: { stdout, stderr },
      connection: this.connection,
      store: options.store === null ? undefined : (options.store ?? this.store),
      env: {},
      signal: options.signal,
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  /**
   * Starts a long-running command (a daemon) without the shared IPFS node; its output can be read
   * while it runs, and `stop()` aborts it and returns how it ended.
   */
  background(party: Party, argv: readonly string[]) {
    const stdout = new Capture();
    const stderr = new Capture();
    const abort = new AbortController();
    const done = runCli(["--keypair", party.keypairPath, ...argv], {
      streams: { stdout, stderr },
      connection: this.connection,
      env: {},
      signal: abort.signal,
    });
    return {
      stdout,
      stderr,
      stop: async (): Promise<CliRun> => {
        abort.abort();
        const code = await done;
        return { code, stdout: stdout.text, stderr: stderr.text };
      },
    };
  }

  /** Runs with --json and parses stdout; fails loudly with the CLI's error otherwise. */
  async json<T = Record<string, unknown>>(party: Party, argv: readonly string[]): Promise<T> {
    const result = await this.run(party, ["--json", ...argv]);
    if (result.code !== 0) throw new Error(`data-market ${argv.join(" ")} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  async stop(): Promise<void> {
    await this.store.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A refusal as the CLI must print it: its exit code, one `error:` line (the last), no stack trace. */
export function assertRefusal(run: CliRun, exitCode: number, pattern: RegExp): void {
  assert.equal(run.code, exitCode, `exit ${run.code}, stderr: ${run.stderr}`);
  // Progress lines may come first; the failure is one line, the last.
  const lines = run.stderr.trim().split("\n");
  const errors = lines.filter((l) => l.startsWith("error: "));
  assert.equal(errors.length, 1, `one error line expected, got: ${run.stderr}`);
  assert.equal(lines.at(-1), errors[0]);
  assert.match(errors[0]!, pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
}
