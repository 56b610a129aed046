// What every browser suite starts: a local stack on the suite's own ports (validator, marketplace,
// the stack's IPFS node with its trustless gateway and Kubo RPC open to the site's origin), the
// built site pointed at it, headless chromium, and the CLI on the same validator and IPFS node.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Browser } from "playwright-core";

import { stackSiteConfig, type ServedConfig } from "../../src/localnet/site.js";
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../../src/localnet/stack.js";
import type { ContentStore } from "../../src/storage/index.js";
import { runCliAt, type CliRun } from "../e2e/helpers.js";
import { DIST_DIR, launchChromium, serveSite, type StaticSite } from "./web-harness.js";

export interface DappFixtureOptions {
  /** Names the temporary directory. */
  name: string;
  /** The suite's own validator RPC port (the faucet is + 71, the IPFS node + 82, the indexer + 81). */
  rpcPort: number;
  /** Run the stack's IPFS node (gateway + Kubo RPC) and point the dapp at it. Default true. */
  ipfs?: boolean;
  /** Run the indexer and point the dapp's discovery at it (its binary must be built). */
  indexer?: boolean;
  minWindowSecs?: LocalStackOptions["minWindowSecs"];
}

export interface DappFixture {
  dir: string;
  stack: LocalStack;
  site: StaticSite;
  browser: Browser;
  /**
   * The config.json the site serves, and so its Content Security Policy (change it and reload to
   * point the dapp elsewhere).
   */
  config: ServedConfig;
  /** The stack's IPFS node (what the CLI publishes to), or null without one. */
  store: ContentStore | null;
  /** The CLI against the stack, as the holder of `keypair`. */
  cli(keypair: string, argv: string[]): Promise<CliRun>;
  close(): Promise<void>;
}

export async function startDappFixture(options: DappFixtureOptions): Promise<DappFixture> {
  const dir = await mkdtemp(join(tmpdir(), `web-${options.name}-`));
  const config: DappFixture["config"] = { rpcUrl: "" };
  // The site first: the IPFS node's RPC needs the site's origin before it starts.
  const site = await serveSite(DIST_DIR, () => config);
  let stack: LocalStack | null = null;
  let browser: Browser | null = null;
  const close = async () => {
    await browser?.close();
    await site.close();
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    stack = await startLocalStack({
      dir,
      rpcPort: options.rpcPort,
      faucetPort: options.rpcPort + 71,
      minWindowSecs: options.minWindowSecs,
      ipfs: options.ipfs === false ? undefined : { allowedOrigins: [new URL(site.url).origin] },
      indexer: options.indexer ? { required: true } : undefined,
    });
    Object.assign(config, stackSiteConfig(stack));
    browser = await launchChromium();
    const store = stack.ipfs?.store ?? null;
    const url = stack.url;
    return {
      dir,
      stack,
      site,
      browser,
      config,
      store,
      cli: (keypair, argv) => runCliAt(url, keypair, argv, { store: store ?? undefined }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
