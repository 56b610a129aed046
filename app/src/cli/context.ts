// What every command needs, built lazily from the global options: the connection (--url), the
// wallet (--keypair), the IPFS store (--ipfs) and the output (--json).
import { homedir } from "node:os";
import { join } from "node:path";

import { address, isAddress, type Address } from "@solana/kit";

import {
  ClientError,
  DEFAULT_KEYPAIR_PATH,
  RpcConnection,
  fetchMintInfo,
  formatAmount,
  keypairWallet,
  loadKeypairFile,
  type MarketConnection,
  type MarketWallet,
  type MintInfo,
} from "../client/index.js";
import { openContentStoreFromUrl, type ContentStore } from "../storage/index.js";
import { Output, type CliStreams } from "./output.js";

export interface GlobalOptions {
  url: string;
  keypair: string;
  ipfs: string;
  /** Multiaddrs the embedded IPFS node listens on (to serve content to buyers). */
  ipfsListen: string[];
  /** Multiaddrs of IPFS nodes to connect to (e.g. a dataset owner's). */
  ipfsPeer: string[];
  json: boolean;
  verbose: boolean;
}

export const DEFAULT_IPFS_DIRECTORY = join(homedir(), ".local", "share", "data-market", "ipfs");

export function defaultGlobalOptions(env: NodeJS.ProcessEnv): GlobalOptions {
  return {
    url: env["DATA_MARKET_URL"] ?? "localnet",
    keypair: env["DATA_MARKET_KEYPAIR"] ?? DEFAULT_KEYPAIR_PATH,
    ipfs: env["DATA_MARKET_IPFS"] ?? DEFAULT_IPFS_DIRECTORY,
    ipfsListen: listFromEnv(env["DATA_MARKET_IPFS_LISTEN"]),
    ipfsPeer: listFromEnv(env["DATA_MARKET_IPFS_PEERS"]),
    json: false,
    verbose: false,
  };
}

/** Resources a host (tests, the journey) can hand in instead of having them opened from options. */
export interface CliResources {
  connection?: MarketConnection;
  store?: ContentStore;
  /** Aborted on Ctrl-C: daemons stop, long transfers stop and clean up. */
  signal?: AbortSignal;
}

export class CliContext {
  readonly output: Output;
  readonly signal: AbortSignal;
  private connectionValue: MarketConnection | undefined;
  private storeValue: ContentStore | undefined;
  private walletValue: Promise<MarketWallet> | undefined;
  private readonly ownsStore: boolean;
  private readonly ownsConnection: boolean;
  private readonly mints = new Map<Address, Promise<MintInfo>>();

  constructor(
    readonly options: GlobalOptions,
    streams: CliStreams,
    resources: CliResources = {},
  ) {
    this.output = new Output(streams, options.json);
    this.signal = resources.signal ?? new AbortController().signal;
    this.connectionValue = resources.connection;
    this.storeValue = resources.store;
    this.ownsConnection = !resources.connection;
    this.ownsStore = !resources.store;
  }

  get connection(): MarketConnection {
    this.connectionValue ??= new RpcConnection(this.options.url);
    return this.connectionValue;
  }

  wallet(): Promise<MarketWallet> {
    this.walletValue ??= loadKeypairFile(this.options.keypair).then(keypairWallet);
    return this.walletValue;
  }

  async store(): Promise<ContentStore> {
    this.storeValue ??= await openContentStoreFromUrl(this.options.ipfs, {
      p2p: { listen: this.options.ipfsListen, peers: this.options.ipfsPeer },
    });
    return this.storeValue;
  }

  mint(mint: Address): Promise<MintInfo> {
    let info = this.mints.get(mint);
    if (!info) {
      info = fetchMintInfo(this.connection, mint);
      this.mints.set(mint, info);
    }
    return info;
  }

  /** `amount` of `mint` for people, e.g. "12.5". */
  async amount(mint: Address, amount: bigint): Promise<string> {
    return formatAmount(amount, (await this.mint(mint)).decimals);
  }

  async close(): Promise<void> {
    if (this.ownsStore && this.storeValue) await this.storeValue.stop();
    if (this.ownsConnection && this.connectionValue) await this.connectionValue.close();
  }
}

/** An address argument, or a usage error naming what was expected. */
export function parseAddress(value: string, what: string): Address {
  if (!isAddress(value)) throw new ClientError("usage", `${what} "${value}" is not a valid address`);
  return address(value);
}

function listFromEnv(value: string | undefined): string[] {
  return (value ?? "").split(",").map((v) => v.trim()).filter((v) => v.length > 0);
}
