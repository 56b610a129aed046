// Where transactions go: one interface over an RPC node (a local validator, devnet) and an embedded
// SVM (LiteSVM running the compiled program in-process). Everything above it (the CLI, the
// narrated journey, the delivery daemon) is written once against this interface.
import type { Address, Instruction, TransactionSigner } from "@solana/kit";

import { type AccountReader, type ExplainedError, type ProgramAccountSource, explainError } from "../sdk/index.js";
import type { RetryCounts } from "./landing.js";

/** Per-transaction overrides of what an RPC connection would choose itself. */
export interface SendOptions {
  /** Compute-unit limit to set instead of the simulated consumption plus margin. */
  computeUnitLimit?: number;
  /** Priority fee in micro-lamports per compute unit, instead of the one chosen from recent fees. */
  priorityFeeMicroLamports?: bigint;
}

/** The compute budget a transaction was sent with, and where each value came from. */
export interface ComputeBudgetChoice {
  computeUnitLimit: number;
  limitSource: "option" | "simulation";
  /** Units the simulation consumed (with the maximum limit), when simulated. */
  simulatedUnits?: number;
  priorityFeeMicroLamports: bigint;
  feeSource: "option" | "recent-fees";
  /** Recent per-slot fees the node reported for the written accounts, and how many were non-zero. */
  feeSamples?: number;
  nonZeroFeeSamples?: number;
  /** The percentile was above the maximum fee, and the maximum was taken. */
  feeCapped?: boolean;
}

export interface SentTransaction {
  signature: string;
  logs: readonly string[];
  /** Compute units the transaction consumed, when the backend reports them. */
  computeUnits?: bigint;
  /** The compute-unit limit and priority fee it carried; absent when it carried none. */
  budget?: ComputeBudgetChoice;
  /** Retries made on the connection while this transaction was sent (RPC backends). */
  retries?: RetryCounts;
}

export interface MarketConnection extends AccountReader, ProgramAccountSource {
  /** "embedded SVM" or the RPC URL, for messages. */
  readonly label: string;
  /** Signs with every signer attached to the instructions, sends and waits for confirmation. */
  send(feePayer: TransactionSigner, instructions: readonly Instruction[], options?: SendOptions): Promise<SentTransaction>;
  /** The cluster's clock (Clock sysvar unix timestamp), which the program's windows are checked against. */
  now(): Promise<bigint>;
  getLamports(address: Address): Promise<bigint>;
  /** Funds a wallet with SOL where the cluster allows it (local validator faucet, embedded SVM). */
  airdrop(address: Address, lamports: bigint): Promise<void>;
  /** Rent-exempt minimum for an account of `space` bytes. */
  rentExemption(space: number): Promise<bigint>;
  /**
   * The oldest transaction that wrote an account, with its slot: for an account written once (a
   * usage receipt) the one that created it. Null when the cluster keeps no record of one.
   */
  firstTransaction(address: Address): Promise<{ signature: string; slot: bigint } | null>;
  /** Moves the clock forward; only an embedded SVM can. */
  readonly canAdvanceTime: boolean;
  advanceTime(seconds: bigint): Promise<void>;
  close(): Promise<void>;
}

/** A transaction the cluster refused, explained (program error name and message when there is one). */
export class TransactionFailedError extends Error {
  constructor(
    readonly explanation: ExplainedError,
    readonly logs: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(explanation.name ? `${explanation.name}: ${explanation.message}` : explanation.message, options);
    this.name = "TransactionFailedError";
  }

  /** The program error's name (e.g. "PriceAboveMax"), if the failure was a program error. */
  get errorName(): string | undefined {
    return this.explanation.name;
  }

  static from(
    error: unknown,
    logs: readonly string[] | null,
    instructions: readonly Instruction[],
  ): TransactionFailedError {
    const explanation = explainError(error, { logs, instructions });
    return new TransactionFailedError(explanation, logs ?? [], { cause: error });
  }
}

/** The Clock sysvar's address and the offset of its unix_timestamp (slot, epoch_start, epoch, leader_epoch, ts). */
export const CLOCK_SYSVAR_ADDRESS = "SysvarC1ock11111111111111111111111111111111" as Address;
export const CLOCK_UNIX_TIMESTAMP_OFFSET = 32;
