// A cluster behind JSON-RPC: a local validator, devnet, any RPC URL. Confirmation is by polling
// signature statuses, which needs no websocket endpoint.
//
// Landing on a busy cluster:
// - every transaction carries a compute-unit limit (its simulated consumption plus a margin) and
//   a priority fee (a percentile of the recent fees paid for the accounts it writes, capped); both
//   can be fixed instead. The simulation also returns a program's refusal, with logs, before
//   anything is signed.
// - every RPC request is retried after HTTP 429 (Retry-After honoured), 408/5xx, a timeout or a
//   dropped connection, with exponential backoff (`createRetryingTransport`).
// - the signed transaction is sent again, unchanged, every few seconds until it is confirmed or
//   its blockhash has expired. Only when the chain's confirmed block height is past the
//   message's lastValidBlockHeight, and the signature is still unknown with the whole transaction
//   history searched, is the transaction signed again with a new blockhash: it can then no longer
//   land, so it can never land twice.
import {
  getSetComputeUnitLimitInstruction,
  getSetComputeUnitPriceInstruction,
} from "@solana-program/compute-budget";
import {
  compileTransaction,
  createNoopSigner,
  createSolanaRpcFromTransport,
  getBase58Decoder,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  getSolanaErrorFromTransactionError,
  getU64Decoder,
  isSolanaError,
  isTransactionModifyingSigner,
  isTransactionPartialSigner,
  isTransactionSendingSigner,
  isWritableRole,
  lamports,
  signAndSendTransactionMessageWithSigners,
  signTransactionMessageWithSigners,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  SOLANA_ERROR__TRANSACTION_ERROR__ALREADY_PROCESSED,
  SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND,
  type Address,
  type Base64EncodedWireTransaction,
  type Blockhash,
  type Commitment,
  type Instruction,
  type Rpc,
  type Signature,
  type SolanaRpcApi,
  type TransactionSigner,
} from "@solana/kit";

import { buildTransactionMessage, rpcAccountReader, rpcProgramAccountSource, type AccountReader } from "../sdk/index.js";
import {
  CLOCK_SYSVAR_ADDRESS,
  CLOCK_UNIX_TIMESTAMP_OFFSET,
  TransactionFailedError,
  type ComputeBudgetChoice,
  type MarketConnection,
  type SendOptions,
  type SentTransaction,
} from "./connection.js";
import {
  DEFAULT_COMPUTE_UNIT_MARGIN,
  DEFAULT_PRIORITY_FEE_POLICY,
  DEFAULT_RPC_BACKOFF,
  MAX_COMPUTE_UNIT_LIMIT,
  RpcUnavailableError,
  TransactionNotLandedError,
  computeUnitLimitFor,
  createRetryingTransport,
  emptyRetryCounts,
  priorityFeeFor,
  type BackoffPolicy,
  type ComputeUnitMargin,
  type LandingEvent,
  type RetryCounts,
} from "./landing.js";

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

export interface RpcConnectionOptions extends SendOptions {
  /** What "landed" means, and the commitment reads use; default confirmed. */
  commitment?: Commitment;
  /**
   * Give up waiting for one signed transaction after this long, even though its blockhash has not
   * expired (the node is stuck or lagging); it may then still land, and is not signed again.
   */
  confirmTimeoutMs?: number;
  /** Highest priority fee chosen from recent fees, in micro-lamports per CU; default 1,000,000. */
  maxPriorityFeeMicroLamports?: bigint;
  /** Percentile of the recent non-zero fees; default 75. */
  priorityFeePercentile?: number;
  /** Margin over the simulated compute units; default +10 % and +1,000. */
  computeUnitMargin?: ComputeUnitMargin;
  /** Retries of each RPC request; default 6 attempts, 250 ms doubling up to 8 s. */
  rpcBackoff?: BackoffPolicy;
  /** An RPC request not answered in this long is abandoned and retried; default 30 s. */
  requestTimeoutMs?: number;
  /** The signed transaction is sent again this often while unconfirmed; default 2 s. */
  rebroadcastIntervalMs?: number;
  /** Signature statuses are polled this often; default 500 ms. */
  pollIntervalMs?: number;
  /** Signings with a fresh blockhash (each after the previous one expired unprocessed); default 3. */
  maxSignings?: number;
  /** Told about every retry as it happens. */
  onEvent?: (event: LandingEvent) => void;
}

type SignatureStatus = { err: unknown; confirmationStatus: Commitment | null } | null;

export class RpcConnection implements MarketConnection {
  readonly canAdvanceTime = false;
  readonly rpc: Rpc<SolanaRpcApi>;
  readonly url: string;
  /** Every retry this connection made since it was created. */
  readonly retries: RetryCounts = emptyRetryCounts();
  private readonly reader: AccountReader;
  private readonly commitment: Commitment;
  private readonly options: RpcConnectionOptions;
  private readonly listeners = new Set<(event: LandingEvent) => void>();

  constructor(
    readonly label: string,
    options: RpcConnectionOptions = {},
  ) {
    this.url = resolveClusterUrl(label);
    this.options = options;
    this.commitment = options.commitment ?? "confirmed";
    if (options.onEvent) this.listeners.add(options.onEvent);
    const transport = createRetryingTransport({
      url: this.url,
      backoff: options.rpcBackoff ?? DEFAULT_RPC_BACKOFF,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      onRetry: (event) => this.emit(event),
    });
    this.rpc = createSolanaRpcFromTransport(transport);
    this.reader = rpcAccountReader(this.rpc, this.commitment);
  }

  /** Listens to retries as they happen; returns the function that stops listening. */
  onEvent(listener: (event: LandingEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: LandingEvent): void {
    if (event.type === "rpc-retry") {
      this.retries.rpc += 1;
      if (event.status === 429) this.retries.rateLimited += 1;
      if (event.reason.startsWith("no answer in")) this.retries.timedOut += 1;
    } else if (event.type === "rebroadcast") {
      this.retries.rebroadcasts += 1;
    } else if (event.type === "resign") {
      this.retries.resigned += 1;
    }
    for (const listener of this.listeners) listener(event);
  }

  getAccounts(addresses: Parameters<AccountReader["getAccounts"]>[0]) {
    return this.reader.getAccounts(addresses);
  }

  getProgramAccounts(filters: Parameters<MarketConnection["getProgramAccounts"]>[0]) {
    return rpcProgramAccountSource(this.rpc, undefined, this.commitment).getProgramAccounts(filters);
  }

  async send(feePayer: TransactionSigner, instructions: readonly Instruction[], options: SendOptions = {}): Promise<SentTransaction> {
    const before = { ...this.retries };
    let lifetime = await this.latestBlockhash();
    const limit = await this.chooseComputeUnitLimit(feePayer, instructions, lifetime, options);
    const fee = await this.choosePriorityFee(feePayer, instructions, options);
    const all = withComputeBudget(instructions, limit.computeUnitLimit, fee.priorityFeeMicroLamports);
    if (sendsItself(feePayer)) {
      // A wallet that only signs and sends (an embedded wallet): it broadcasts, this connection
      // confirms. It is never asked again, since a copy it sent may still land.
      const message = buildTransactionMessage({ feePayer, instructions: all, lifetime });
      const signature = getBase58Decoder().decode(await signAndSendTransactionMessageWithSigners(message)) as Signature;
      const outcome = await this.land(null, signature, lifetime.lastValidBlockHeight, all);
      if (outcome === "expired") {
        throw new TransactionNotLandedError(`${signature} expired without landing; the cluster may be congested: try again`, [signature], false);
      }
      return this.sent(signature, { ...limit, ...fee }, before);
    }
    const maxSignings = this.options.maxSignings ?? 3;
    const signatures: Signature[] = [];
    for (let signing = 1; ; signing++) {
      const message = buildTransactionMessage({ feePayer, instructions: all, lifetime });
      const transaction = await signTransactionMessageWithSigners(message);
      const signature = getSignatureFromTransaction(transaction);
      signatures.push(signature);
      const outcome = await this.land(getBase64EncodedWireTransaction(transaction), signature, lifetime.lastValidBlockHeight, all);
      if (outcome === "landed") return this.sent(signature, { ...limit, ...fee }, before);
      if (signing >= maxSignings) {
        throw new TransactionNotLandedError(
          `the transaction expired ${signing} times without landing (signatures ${signatures.join(", ")}); the cluster may be congested: try again, or raise --priority-fee`,
          signatures,
          false,
        );
      }
      this.emit({ type: "resign", previous: signature, attempt: signing + 1 });
      lifetime = await this.latestBlockhash();
    }
  }

  /**
   * A transaction for someone else to sign and send (a Solana Action's answer): the instructions
   * with the compute budget this connection would choose (so a failing simulation is thrown as the
   * program's refusal), a recent blockhash, and no signature. Signers in the instructions only name
   * their addresses.
   */
  async unsignedTransaction(
    feePayer: Address,
    instructions: readonly Instruction[],
  ): Promise<{ transaction: Base64EncodedWireTransaction; budget: ComputeBudgetChoice; lastValidBlockHeight: bigint }> {
    const payer = createNoopSigner(feePayer);
    const lifetime = await this.latestBlockhash();
    const limit = await this.chooseComputeUnitLimit(payer, instructions, lifetime, {});
    const fee = await this.choosePriorityFee(payer, instructions, {});
    const all = withComputeBudget(instructions, limit.computeUnitLimit, fee.priorityFeeMicroLamports);
    const transaction = compileTransaction(buildTransactionMessage({ feePayer: payer, instructions: all, lifetime }));
    return { transaction: getBase64EncodedWireTransaction(transaction), budget: { ...limit, ...fee }, lastValidBlockHeight: lifetime.lastValidBlockHeight };
  }

  private async sent(signature: Signature, budget: ComputeBudgetChoice, before: RetryCounts): Promise<SentTransaction> {
    const details = await this.rpc
      .getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0, encoding: "json" })
      .send();
    return {
      signature,
      logs: details?.meta?.logMessages ?? [],
      computeUnits: details?.meta?.computeUnitsConsumed ?? undefined,
      budget,
      retries: difference(this.retries, before),
    };
  }

  private async latestBlockhash(): Promise<{ blockhash: Blockhash; lastValidBlockHeight: bigint }> {
    const { value } = await this.rpc.getLatestBlockhash({ commitment: this.commitment }).send();
    return value;
  }

  /**
   * The fixed limit, or the units the transaction consumes when simulated with the maximum limit,
   * plus the margin. A failing simulation is the program's refusal: it is thrown with its logs.
   */
  private async chooseComputeUnitLimit(
    feePayer: TransactionSigner,
    instructions: readonly Instruction[],
    lifetime: { blockhash: Blockhash; lastValidBlockHeight: bigint },
    options: SendOptions,
  ): Promise<Pick<ComputeBudgetChoice, "computeUnitLimit" | "limitSource" | "simulatedUnits">> {
    const fixed = options.computeUnitLimit ?? this.options.computeUnitLimit;
    if (fixed !== undefined) return { computeUnitLimit: fixed, limitSource: "option" };
    const all = withComputeBudget(instructions, MAX_COMPUTE_UNIT_LIMIT, 0n);
    const unsigned = compileTransaction(buildTransactionMessage({ feePayer, instructions: all, lifetime }));
    const { value } = await this.rpc
      .simulateTransaction(getBase64EncodedWireTransaction(unsigned), {
        encoding: "base64",
        sigVerify: false,
        replaceRecentBlockhash: true,
        commitment: this.commitment,
      })
      .send();
    if (value.err) {
      // The same error kit builds from a failed preflight (the raw one carries u64s as bigints).
      const error = getSolanaErrorFromTransactionError(value.err);
      throw TransactionFailedError.from(error, value.logs ?? null, all);
    }
    const simulated = Number(value.unitsConsumed ?? 0n);
    const computeUnitLimit = computeUnitLimitFor(simulated, this.options.computeUnitMargin ?? DEFAULT_COMPUTE_UNIT_MARGIN);
    return { computeUnitLimit, limitSource: "simulation", simulatedUnits: simulated };
  }

  /** The fixed fee, or the percentile of the recent fees for the accounts the transaction writes, capped. */
  private async choosePriorityFee(
    feePayer: TransactionSigner,
    instructions: readonly Instruction[],
    options: SendOptions,
  ): Promise<Pick<ComputeBudgetChoice, "priorityFeeMicroLamports" | "feeSource" | "feeSamples" | "nonZeroFeeSamples" | "feeCapped">> {
    const fixed = options.priorityFeeMicroLamports ?? this.options.priorityFeeMicroLamports;
    if (fixed !== undefined) return { priorityFeeMicroLamports: fixed, feeSource: "option" };
    const recent = await this.rpc.getRecentPrioritizationFees(writableAccounts(feePayer, instructions)).send();
    const choice = priorityFeeFor(
      recent.map((r) => r.prioritizationFee),
      {
        percentile: this.options.priorityFeePercentile ?? DEFAULT_PRIORITY_FEE_POLICY.percentile,
        maxMicroLamports: this.options.maxPriorityFeeMicroLamports ?? DEFAULT_PRIORITY_FEE_POLICY.maxMicroLamports,
      },
    );
    return {
      priorityFeeMicroLamports: choice.microLamports,
      feeSource: "recent-fees",
      feeSamples: choice.samples,
      nonZeroFeeSamples: choice.nonZero,
      feeCapped: choice.capped,
    };
  }

  /**
   * Sends one signed transaction and waits: "landed" once it reaches the commitment, "expired"
   * once its blockhash has provably expired without it being processed. Throws the program's
   * refusal, or TransactionNotLandedError (may still land) when the wait times out first.
   */
  private async land(
    wire: Base64EncodedWireTransaction | null,
    signature: Signature,
    lastValidBlockHeight: bigint,
    instructions: readonly Instruction[],
  ): Promise<"landed" | "expired"> {
    try {
      return await this.waitToLand(wire, signature, lastValidBlockHeight, instructions);
    } catch (error) {
      if (!(error instanceof RpcUnavailableError)) throw error;
      // Sent, then the node went away: whether it landed is unknown, so say so instead of "unreachable".
      throw new TransactionNotLandedError(
        `the RPC node stopped answering while ${signature} was pending (${error.message}); it may still land: check it before sending again`,
        [signature],
        true,
        { cause: error },
      );
    }
  }

  /** `wire` is null when the wallet sent the transaction: then only its status is polled. */
  private async waitToLand(
    wire: Base64EncodedWireTransaction | null,
    signature: Signature,
    lastValidBlockHeight: bigint,
    instructions: readonly Instruction[],
  ): Promise<"landed" | "expired"> {
    const rebroadcastMs = this.options.rebroadcastIntervalMs ?? 2_000;
    const pollMs = this.options.pollIntervalMs ?? 500;
    const deadline = Date.now() + (this.options.confirmTimeoutMs ?? 120_000);
    if (wire) await this.broadcast(wire, instructions, true);
    let lastBroadcast = Date.now();
    let rebroadcasts = 0;
    for (;;) {
      await sleep(pollMs);
      const status = await this.status(signature, false);
      if (status) {
        if (status.err) throw await this.failure(signature, status.err, instructions);
        if (this.reached(status)) return "landed";
      }
      const height = await this.rpc.getBlockHeight({ commitment: "confirmed" }).send();
      if (height > lastValidBlockHeight) {
        // Past its last valid block: it can no longer be processed. Was it, before?
        const final = await this.status(signature, true);
        if (final?.err) throw await this.failure(signature, final.err, instructions);
        if (final && this.reached(final)) return "landed";
        if (!final) {
          this.emit({ type: "blockhash-expired", signature, lastValidBlockHeight, blockHeight: height });
          return "expired";
        }
        // Processed, not yet at the commitment: keep waiting for it.
      } else if (wire && !status && Date.now() - lastBroadcast >= rebroadcastMs) {
        rebroadcasts += 1;
        this.emit({ type: "rebroadcast", signature, attempt: rebroadcasts });
        await this.broadcast(wire, instructions, false);
        lastBroadcast = Date.now();
      }
      if (Date.now() > deadline) {
        throw new TransactionNotLandedError(
          `${signature} was not confirmed in ${this.options.confirmTimeoutMs ?? 120_000} ms and its blockhash has not expired: it may still land; check it before sending again`,
          [signature],
          true,
        );
      }
    }
  }

  /**
   * Sends the signed transaction. The first time with preflight, so a refusal comes back with its
   * logs; again without (it may already be processed). A node that does not answer is no failure:
   * the transaction may have reached it, and the status polling tells.
   */
  private async broadcast(wire: Base64EncodedWireTransaction, instructions: readonly Instruction[], preflight: boolean): Promise<void> {
    try {
      await this.rpc
        .sendTransaction(wire, {
          encoding: "base64",
          skipPreflight: !preflight,
          preflightCommitment: this.commitment,
          maxRetries: 0n,
        })
        .send();
    } catch (error) {
      if (isSolanaError(error, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE)) {
        const cause = error.cause;
        // A lagging node that does not know the blockhash yet, or a copy already processed: keep waiting.
        if (
          isSolanaError(cause, SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND) ||
          isSolanaError(cause, SOLANA_ERROR__TRANSACTION_ERROR__ALREADY_PROCESSED)
        ) {
          return;
        }
        throw TransactionFailedError.from(error, error.context.logs ?? null, instructions);
      }
      if (error instanceof RpcUnavailableError) return;
      throw TransactionFailedError.from(error, null, instructions);
    }
  }

  private async status(signature: Signature, searchTransactionHistory: boolean): Promise<SignatureStatus> {
    const { value } = await this.rpc.getSignatureStatuses([signature], { searchTransactionHistory }).send();
    return (value[0] as SignatureStatus | undefined) ?? null;
  }

  private reached(status: NonNullable<SignatureStatus>): boolean {
    const reached = status.confirmationStatus;
    if (reached === "finalized") return true;
    if (reached === "confirmed") return this.commitment !== "finalized";
    return reached === "processed" && this.commitment === "processed";
  }

  private async failure(signature: Signature, err: unknown, instructions: readonly Instruction[]): Promise<TransactionFailedError> {
    const details = await this.rpc
      .getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0, encoding: "json" })
      .send();
    const error = getSolanaErrorFromTransactionError(err as Parameters<typeof getSolanaErrorFromTransactionError>[0]);
    return TransactionFailedError.from(error, details?.meta?.logMessages ?? null, instructions);
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
    const deadline = Date.now() + (this.options.confirmTimeoutMs ?? 120_000);
    for (;;) {
      const status = await this.status(signature, false);
      if (status?.err) {
        throw new Error(`airdrop to ${address} failed: ${JSON.stringify(status.err, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`);
      }
      if (status && this.reached(status)) return;
      if (Date.now() > deadline) throw new TransactionNotLandedError(`airdrop ${signature} not confirmed in time`, [signature], true);
      await sleep(400);
    }
  }

  async rentExemption(space: number): Promise<bigint> {
    return this.rpc.getMinimumBalanceForRentExemption(BigInt(space)).send();
  }

  async firstTransaction(address: Address): Promise<{ signature: string; slot: bigint } | null> {
    // Newest first, 1,000 per page: page back until the oldest.
    const commitment = this.commitment === "processed" ? "confirmed" : this.commitment;
    let oldest: { signature: string; slot: bigint } | null = null;
    let before: Signature | undefined;
    for (;;) {
      const page = await this.rpc.getSignaturesForAddress(address, { limit: 1000, commitment, ...(before ? { before } : {}) }).send();
      const last = page[page.length - 1];
      if (!last) return oldest;
      oldest = { signature: last.signature, slot: last.slot };
      if (page.length < 1000) return oldest;
      before = last.signature;
    }
  }

  async advanceTime(): Promise<void> {
    throw new Error(`${this.label}: a cluster's clock cannot be moved; wait instead`);
  }

  async close(): Promise<void> {}
}

/** A signer that can only sign and send (no partial or modifying signing): a wallet that broadcasts itself. */
function sendsItself(signer: TransactionSigner): boolean {
  return isTransactionSendingSigner(signer) && !isTransactionPartialSigner(signer) && !isTransactionModifyingSigner(signer);
}

/** The compute-budget instructions first (limit, price), then the transaction's own. */
export function withComputeBudget(instructions: readonly Instruction[], units: number, microLamports: bigint): Instruction[] {
  return [getSetComputeUnitLimitInstruction({ units }), getSetComputeUnitPriceInstruction({ microLamports }), ...instructions];
}

/** The fee payer and every account an instruction writes (the node's fee statistics are per account; at most 128). */
export function writableAccounts(feePayer: TransactionSigner, instructions: readonly Instruction[]): Address[] {
  const accounts = new Set<Address>([feePayer.address]);
  for (const instruction of instructions) {
    for (const account of instruction.accounts ?? []) {
      if (isWritableRole(account.role)) accounts.add(account.address);
    }
  }
  return [...accounts].slice(0, 128);
}

function difference(after: RetryCounts, before: RetryCounts): RetryCounts {
  return {
    rpc: after.rpc - before.rpc,
    rateLimited: after.rateLimited - before.rateLimited,
    timedOut: after.timedOut - before.timedOut,
    rebroadcasts: after.rebroadcasts - before.rebroadcasts,
    resigned: after.resigned - before.resigned,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
