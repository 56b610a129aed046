// The local stack: a validator with the program deployed (upgradeable, the operator as upgrade
// authority), wallets in keypair files, a USDC-like mint and the marketplace, ready for the CLI and
// the web dapp. Keypairs are kept between runs (the same addresses every time); the ledger starts
// from genesis unless asked to keep it. On request the indexer runs next to the validator (see
// indexer.ts), and an IPFS node serves a trustless gateway and the Kubo RPC subset (see ipfs.ts);
// their URLs go into stack.json.
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import { createKeypairFile, loadKeypairFile, RpcConnection, type LoadedWallet } from "../client/index.js";
import { DEFAULT_PROGRAM_SO } from "../client/svm.js";
import { DATA_MARKET_PROGRAM_ADDRESS } from "../sdk/index.js";
import { INDEXER_BUILD_HINT, findIndexerBinary, startIndexer, type RunningIndexer } from "./indexer.js";
import { startStackIpfs, type RunningStackIpfs } from "./ipfs.js";
import { USDC, provisionMarket, type ProvisionedMarket } from "./provision.js";
import { FULL_NODE_PUBSUB_QUEUE_ITEMS, startValidator, type RunningValidator } from "./validator.js";

export const STACK_WALLETS = ["operator", "owner", "buyer"] as const;
export type StackWalletName = (typeof STACK_WALLETS)[number];

export interface LocalStackOptions {
  /** Holds the keypairs, the ledger and stack.json. */
  dir: string;
  programSo?: string;
  rpcPort?: number;
  faucetPort?: number;
  keepLedger?: boolean;
  /**
   * The marketplace's minimum delivery and dispute windows: seconds by default, so a whole licence
   * lifecycle (refund, dispute, settlement) runs on the real clock in a minute.
   */
  minWindowSecs?: number;
  /**
   * Run the indexer against the validator, its API on 127.0.0.1:`port` (default: the RPC port + 81).
   * When its binary is missing the stack starts without it (`indexerMissing` says how to build it),
   * unless `required`, which makes that an error.
   */
  indexer?: { port?: number; required?: boolean; binary?: string; intervalSecs?: number };
  /**
   * Run an embedded IPFS node (repository `directory`, default `<dir>/ipfs`) served on
   * 127.0.0.1:`port` (default: the RPC port + 82): a trustless gateway and the Kubo RPC subset.
   * `allowedOrigins`: browser origins that may call its RPC (the dapp's).
   */
  ipfs?: { port?: number; directory?: string; allowedOrigins?: readonly string[] };
}

/** The IPFS gateway's port relative to the RPC port (the indexer's is + 81). */
export const IPFS_PORT_OFFSET = 82;

/** The local marketplace's minimum windows unless told otherwise. */
export const LOCAL_MIN_WINDOW_SECS = 10;

export interface LocalStack {
  url: string;
  validator: RunningValidator;
  connection: RpcConnection;
  market: ProvisionedMarket;
  wallets: Record<StackWalletName, { wallet: LoadedWallet; keypairPath: string }>;
  /** The running indexer, when asked for and found. */
  indexer: RunningIndexer | null;
  /** Why the indexer asked for is not running (how to build it). */
  indexerMissing: string | null;
  /** The IPFS node and its gateway, when asked for. */
  ipfs: RunningStackIpfs | null;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const wallets = {} as LocalStack["wallets"];
  for (const name of STACK_WALLETS) {
    const keypairPath = join(options.dir, `${name}.json`);
    const wallet = existsSync(keypairPath) ? await loadKeypairFile(keypairPath) : await createKeypairFile(keypairPath);
    wallets[name] = { wallet, keypairPath };
  }
  const validator = await startValidator({
    ledgerDir: join(options.dir, "ledger"),
    programSo: options.programSo ?? DEFAULT_PROGRAM_SO,
    upgradeAuthority: wallets.operator.wallet.signer.address,
    rpcPort: options.rpcPort,
    faucetPort: options.faucetPort,
    keepLedger: options.keepLedger,
    // a full node's queue: with the test validator's 100, a burst of updates cuts the indexer's
    // subscription (and any dapp's)
    pubsubQueueCapacityItems: FULL_NODE_PUBSUB_QUEUE_ITEMS,
  });
  let indexer: RunningIndexer | null = null;
  let indexerMissing: string | null = null;
  let ipfs: RunningStackIpfs | null = null;
  const stop = async () => {
    await indexer?.stop();
    await ipfs?.stop();
    await validator.stop();
  };
  try {
    const connection = new RpcConnection(validator.url);
    const market = await provisionMarket(connection, {
      operator: wallets.operator.wallet.signer,
      wallets: [
        { address: wallets.owner.wallet.signer.address, usdc: 0n },
        { address: wallets.buyer.wallet.signer.address, usdc: 1_000n * USDC },
      ],
      minDeliveryWindowSecs: options.minWindowSecs ?? LOCAL_MIN_WINDOW_SECS,
      minDisputeWindowSecs: options.minWindowSecs ?? LOCAL_MIN_WINDOW_SECS,
    });
    // before the indexer, which reads the datasets' metadata through its gateway
    if (options.ipfs) {
      ipfs = await startStackIpfs({
        directory: options.ipfs.directory ?? join(options.dir, "ipfs"),
        port: options.ipfs.port ?? (options.rpcPort ?? 8899) + IPFS_PORT_OFFSET,
        allowedOrigins: options.ipfs.allowedOrigins,
      });
    }
    if (options.indexer) {
      const binary = options.indexer.binary ?? findIndexerBinary();
      if (binary) {
        indexer = await startIndexer({
          binary,
          rpcUrl: validator.url,
          dir: options.dir,
          port: options.indexer.port ?? (options.rpcPort ?? 8899) + 81,
          intervalSecs: options.indexer.intervalSecs,
          ipfsGateways: ipfs ? [ipfs.url] : [],
        });
      } else if (options.indexer.required) {
        throw new Error(INDEXER_BUILD_HINT);
      } else {
        indexerMissing = INDEXER_BUILD_HINT;
      }
    }
    await writeFile(
      join(options.dir, "stack.json"),
      `${JSON.stringify(
        {
          url: validator.url,
          indexer: indexer?.url ?? null,
          ipfsGateway: ipfs?.url ?? null,
          ipfsApi: ipfs?.url ?? null,
          programId: DATA_MARKET_PROGRAM_ADDRESS,
          marketplace: market.marketplace,
          usdcMint: market.usdc.address,
          usdcDecimals: market.usdc.decimals,
          treasury: market.treasury,
          minDeliveryWindowSecs: market.minDeliveryWindowSecs,
          minDisputeWindowSecs: market.minDisputeWindowSecs,
          wallets: Object.fromEntries(
            STACK_WALLETS.map((n) => [n, { address: wallets[n].wallet.signer.address, keypair: wallets[n].keypairPath }]),
          ),
        },
        null,
        2,
      )}\n`,
    );
    return { url: validator.url, validator, connection, market, wallets, indexer, indexerMissing, ipfs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
