// What every command needs, built lazily from the global options: the connection (--url), the
// wallet (--keypair), the IPFS store (--ipfs) and the output (--json).
import { homedir } from "node:os";
import { join } from "node:path";

import { address, isAddress, type Account, type Address, type Commitment, type Instruction, type TransactionSigner } from "@solana/kit";

import {
  ClientError,
  DEFAULT_KEYPAIR_PATH,
  MAX_COMPUTE_UNIT_LIMIT,
  RpcConnection,
  fetchMintInfo,
  formatAmount,
  keypairWallet,
  loadKeypairFile,
  type MarketConnection,
  type MarketWallet,
  type MintInfo,
  type SendOptions,
  type SentTransaction,
} from "../client/index.js";
import {
  IndexerClient,
  chainDiscovery,
  indexerDiscovery,
  listAccounts,
  type AccountKindName,
  type AccountList,
  type DecodedOf,
  type Discovery,
} from "../sdk/index.js";
import { openContentStoreFromUrl, type ContentStore } from "../storage/index.js";
import { Output, type CliStreams } from "./output.js";
import { parseInteger } from "./parse.js";

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
  /** processed, confirmed or finalized: when a transaction counts as landed, and what reads see. */
  commitment: string;
  /** Fixed priority fee in micro-lamports per compute unit (else chosen from recent fees). */
  priorityFee?: string;
  /** Highest priority fee chosen from recent fees, in micro-lamports per compute unit. */
  maxPriorityFee?: string;
  /** Fixed compute-unit limit (else the simulated consumption plus a margin). */
  computeUnitLimit?: string;
  /** The indexer's API URL: search, list and the delivery daemon ask it instead of scanning the chain. */
  indexer?: string;
}

export const COMMITMENTS: readonly Commitment[] = ["processed", "confirmed", "finalized"];

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
    commitment: "confirmed",
    indexer: nonEmpty(env["DATA_MARKET_INDEXER"]),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
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
  private readonly hostConnection: MarketConnection | undefined;
  private storeValue: ContentStore | undefined;
  private walletValue: Promise<MarketWallet> | undefined;
  private indexerValue: IndexerClient | undefined;
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
    this.hostConnection = resources.connection;
    this.storeValue = resources.store;
    this.ownsConnection = !resources.connection;
    this.ownsStore = !resources.store;
  }

  /**
   * The connection every command uses. Each transaction sent through it carries the
   * --compute-unit-limit and --priority-fee overrides, and what it was sent with is reported:
   * in the --json result, and on stderr with --verbose.
   */
  get connection(): MarketConnection {
    if (!this.connectionValue) {
      const send = this.sendOptions();
      const commitment = parseCommitment(this.options.commitment);
      const inner =
        this.hostConnection ??
        new RpcConnection(this.options.url, {
          commitment,
          maxPriorityFeeMicroLamports:
            this.options.maxPriorityFee === undefined ? undefined : parseMicroLamports("--max-priority-fee", this.options.maxPriorityFee),
        });
      this.connectionValue = new ReportingConnection(inner, send, (sent) => this.reportSent(sent));
    }
    return this.connectionValue;
  }

  private sendOptions(): SendOptions {
    return {
      computeUnitLimit:
        this.options.computeUnitLimit === undefined
          ? undefined
          : parseInteger("--compute-unit-limit", this.options.computeUnitLimit, 1, MAX_COMPUTE_UNIT_LIMIT),
      priorityFeeMicroLamports:
        this.options.priorityFee === undefined ? undefined : parseMicroLamports("--priority-fee", this.options.priorityFee),
    };
  }

  private reportSent(sent: SentTransaction): void {
    this.output.transaction(sent);
    if (this.options.verbose) this.output.note(describeSent(sent));
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

  /** The indexer client, when --indexer (or DATA_MARKET_INDEXER) names one. */
  indexer(): IndexerClient | null {
    if (this.options.indexer === undefined) return null;
    this.indexerValue ??= new IndexerClient(this.options.indexer, { signal: this.signal });
    return this.indexerValue;
  }

  /**
   * Where datasets and pending deliveries are found: the indexer, every answer checked against the
   * chain through this connection; or, without one, getProgramAccounts on the RPC node.
   */
  discovery(): Discovery {
    const indexer = this.indexer();
    return indexer
      ? indexerDiscovery(indexer, { reader: this.connection })
      : chainDiscovery(this.connection, this.connection.label);
  }

  /**
   * Every account of a list (a buyer's licences, a dataset's reviews, a model's receipts): from the
   * indexer when there is one, each item checked on chain and what the chain does not confirm
   * reported as a warning; else getProgramAccounts.
   */
  async listAccounts<K extends AccountKindName>(list: AccountList<K>, minSlot?: bigint): Promise<Account<DecodedOf<K>>[]> {
    const indexer = this.indexer();
    const listed = await listAccounts(list, { chain: this.connection, indexer, minSlot });
    for (const item of listed.dropped) {
      this.output.note(`warning: the indexer at ${indexer?.url} listed ${item.address}, left out: ${item.detail}`);
    }
    return listed.accounts;
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

/** A MarketConnection that adds the CLI's send options to every transaction and reports each one sent. */
class ReportingConnection implements MarketConnection {
  constructor(
    private readonly inner: MarketConnection,
    private readonly sendOptions: SendOptions,
    private readonly onSent: (sent: SentTransaction) => void,
  ) {}

  get label() {
    return this.inner.label;
  }
  get canAdvanceTime() {
    return this.inner.canAdvanceTime;
  }
  async send(feePayer: TransactionSigner, instructions: readonly Instruction[], options?: SendOptions): Promise<SentTransaction> {
    const sent = await this.inner.send(feePayer, instructions, { ...this.sendOptions, ...options });
    this.onSent(sent);
    return sent;
  }
  getAccounts(addresses: readonly Address[]) {
    return this.inner.getAccounts(addresses);
  }
  getProgramAccounts(filters: Parameters<MarketConnection["getProgramAccounts"]>[0]) {
    return this.inner.getProgramAccounts(filters);
  }
  now() {
    return this.inner.now();
  }
  getLamports(address: Address) {
    return this.inner.getLamports(address);
  }
  airdrop(address: Address, lamports: bigint) {
    return this.inner.airdrop(address, lamports);
  }
  rentExemption(space: number) {
    return this.inner.rentExemption(space);
  }
  firstTransaction(address: Address) {
    return this.inner.firstTransaction(address);
  }
  advanceTime(seconds: bigint) {
    return this.inner.advanceTime(seconds);
  }
  close() {
    return this.inner.close();
  }
}

/** One line for --verbose: what a transaction was sent with, and the retries it took. */
export function describeSent(sent: SentTransaction): string {
  const parts = [`transaction ${sent.signature}`];
  const budget = sent.budget;
  if (budget) {
    const limit =
      budget.limitSource === "simulation"
        ? `compute-unit limit ${budget.computeUnitLimit} (simulated ${budget.simulatedUnits} + 10% + 1000)`
        : `compute-unit limit ${budget.computeUnitLimit} (--compute-unit-limit)`;
    const fee =
      budget.feeSource === "recent-fees"
        ? `priority fee ${budget.priorityFeeMicroLamports} micro-lamports/CU (p75 of ${budget.nonZeroFeeSamples} non-zero of ${budget.feeSamples} recent fees${budget.feeCapped ? ", capped" : ""})`
        : `priority fee ${budget.priorityFeeMicroLamports} micro-lamports/CU (--priority-fee)`;
    parts.push(limit, fee);
  } else {
    parts.push("no compute budget");
  }
  if (sent.computeUnits !== undefined) parts.push(`consumed ${sent.computeUnits} CU`);
  if (sent.retries) {
    const r = sent.retries;
    parts.push(`retries: ${r.rpc} RPC (${r.rateLimited} rate-limited, ${r.timedOut} timed out), ${r.rebroadcasts} re-sent, ${r.resigned} re-signed`);
  }
  return parts.join("; ");
}

function parseCommitment(text: string): Commitment {
  const value = COMMITMENTS.find((c) => c === text);
  if (!value) throw new ClientError("usage", `--commitment must be one of ${COMMITMENTS.join(", ")}, got "${text}"`);
  return value;
}

function parseMicroLamports(what: string, text: string): bigint {
  if (!/^\d+$/.test(text.trim())) throw new ClientError("usage", `${what} must be a whole number of micro-lamports per compute unit, got "${text}"`);
  const value = BigInt(text.trim());
  if (value > 18_446_744_073_709_551_615n) throw new ClientError("usage", `${what} is too large`);
  return value;
}

function listFromEnv(value: string | undefined): string[] {
  return (value ?? "").split(",").map((v) => v.trim()).filter((v) => v.length > 0);
}
