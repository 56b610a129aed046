// A cluster behind JSON-RPC: a local validator, devnet, any RPC URL. Transactions are sent with
// preflight (so program errors come back with their logs before anything lands) and confirmed by
// polling signature statuses, which needs no websocket endpoint.
import {
  createSolanaRpc,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  getU64Decoder,
  lamports,
  signTransactionMessageWithSigners,
  type Address,
  type Commitment,
  type Instruction,
  type Signature,
  type SolanaRpcApi,
  type Rpc,
  type TransactionSigner,
} from "@solana/kit";

import { buildTransactionMessage, rpcAccountReader, rpcProgramAccountSource, type AccountReader } from "../sdk/index.js";
import {
  CLOCK_SYSVAR_ADDRESS,
  CLOCK_UNIX_TIMESTAMP_OFFSET,
  TransactionFailedError,
  type MarketConnection,
  type SentTransaction,
} from "./connection.js";

/** Short names for the clusters the CLI knows. */
export const CLUSTER_URLS: Readonly<Record<string, string>> = {
  localnet: "http://127.0.0.1:8899",
  localhost: "http://127.0.0.1:8899",
  devnet: "https://api.devnet.solana.com",
  testnet: "https://api.testnet.solana.com",
  "mainnet-beta": "https://api.mainnet-beta.solana.com",
};

export function resolveClusterUrl(urlOrMoniker: string): string {
  return CLUSTER_URLS[urlOrMoniker] ?? urlOrMoniker;
}

export interface RpcConnectionOptions {
  commitment?: Commitment;
  /** Give up waiting for confirmation after this long. */
  confirmTimeoutMs?: number;
}

export class RpcConnection implements MarketConnection {
  readonly canAdvanceTime = false;
  readonly rpc: Rpc<SolanaRpcApi>;
  private readonly reader: AccountReader;
  private readonly commitment: Commitment;
  private readonly confirmTimeoutMs: number;

  constructor(
    readonly label: string,
    options: RpcConnectionOptions = {},
  ) {
    this.rpc = createSolanaRpc(resolveClusterUrl(label));
    this.reader = rpcAccountReader(this.rpc);
    this.commitment = options.commitment ?? "confirmed";
    this.confirmTimeoutMs = options.confirmTimeoutMs ?? 60_000;
  }

  getAccounts(addresses: Parameters<AccountReader["getAccounts"]>[0]) {
    return this.reader.getAccounts(addresses);
  }

  getProgramAccounts(filters: Parameters<MarketConnection["getProgramAccounts"]>[0]) {
    return rpcProgramAccountSource(this.rpc).getProgramAccounts(filters);
  }

  async send(feePayer: TransactionSigner, instructions: readonly Instruction[]): Promise<SentTransaction> {
    const { value: lifetime } = await this.rpc.getLatestBlockhash({ commitment: this.commitment }).send();
    const message = buildTransactionMessage({ feePayer, instructions, lifetime });
    const transaction = await signTransactionMessageWithSigners(message);
    const signature = getSignatureFromTransaction(transaction);
    try {
      await this.rpc
        .sendTransaction(getBase64EncodedWireTransaction(transaction), {
          encoding: "base64",
          preflightCommitment: this.commitment,
        })
        .send();
    } catch (error) {
      throw TransactionFailedError.from(error, null, instructions);
    }
    await this.confirm(signature, lifetime.lastValidBlockHeight, instructions);
    const details = await this.rpc
      .getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0, encoding: "json" })
      .send();
    return {
      signature,
      logs: details?.meta?.logMessages ?? [],
      computeUnits: details?.meta?.computeUnitsConsumed ?? undefined,
    };
  }

  private async confirm(signature: Signature, lastValidBlockHeight: bigint, instructions: readonly Instruction[]) {
    await this.waitFor(signature, async (status) => {
      if (status?.err) {
        const details = await this.rpc
          .getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0, encoding: "json" })
          .send();
        throw TransactionFailedError.from(status.err, details?.meta?.logMessages ?? null, instructions);
      }
      const height = await this.rpc.getBlockHeight({ commitment: this.commitment }).send();
      if (height > lastValidBlockHeight) throw new Error(`transaction ${signature} expired before it landed; try again`);
    });
  }

  /**
   * Polls the signature's status until it reaches this connection's commitment; `check` sees every
   * status not yet there (and may throw), and the wait gives up after `confirmTimeoutMs`.
   */
  private async waitFor(
    signature: Signature,
    check: (status: { err: unknown } | null) => Promise<void> = async () => {},
  ): Promise<void> {
    const deadline = Date.now() + this.confirmTimeoutMs;
    for (;;) {
      const { value } = await this.rpc.getSignatureStatuses([signature]).send();
      const status = value[0] ?? null;
      const reached = status?.confirmationStatus;
      if (!status?.err && (reached === "finalized" || (reached === "confirmed" && this.commitment !== "finalized"))) return;
      await check(status);
      if (Date.now() > deadline) throw new Error(`${signature} not confirmed in ${this.confirmTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
  }

  async now(): Promise<bigint> {
    const [clock] = await this.reader.getAccounts([CLOCK_SYSVAR_ADDRESS]);
    if (!clock?.exists) throw new Error("the cluster has no Clock sysvar");
    return getU64Decoder().decode(clock.data, CLOCK_UNIX_TIMESTAMP_OFFSET);
  }

  async getLamports(address: Address): Promise<bigint> {
    const { value } = await this.rpc.getBalance(address, { commitment: this.commitment }).send();
    return value;
  }

  async airdrop(address: Address, amount: bigint): Promise<void> {
    const signature = await this.rpc.requestAirdrop(address, lamports(amount), { commitment: this.commitment }).send();
    await this.waitFor(signature, async (status) => {
      if (status?.err) throw new Error(`airdrop to ${address} failed: ${JSON.stringify(status.err, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`);
    });
  }

  async rentExemption(space: number): Promise<bigint> {
    return this.rpc.getMinimumBalanceForRentExemption(BigInt(space)).send();
  }

  async advanceTime(): Promise<void> {
    throw new Error(`${this.label}: a cluster's clock cannot be moved; wait instead`);
  }

  async close(): Promise<void> {}
}
