// Where transactions go: one interface over an RPC node (a local validator, devnet) and an embedded
// SVM (LiteSVM running the compiled program in-process). Everything above it (the CLI, the
// narrated journey, the delivery daemon) is written once against this interface.
import type { Address, Instruction, TransactionSigner } from "@solana/kit";

import { type AccountReader, type ExplainedError, type ProgramAccountSource, explainError } from "../sdk/index.js";

export interface SentTransaction {
  signature: string;
  logs: readonly string[];
  /** Compute units the transaction consumed, when the backend reports them. */
  computeUnits?: bigint;
}

export interface MarketConnection extends AccountReader, ProgramAccountSource {
  /** "embedded SVM" or the RPC URL, for messages. */
  readonly label: string;
  /** Signs with every signer attached to the instructions, sends and waits for confirmation. */
  send(feePayer: TransactionSigner, instructions: readonly Instruction[]): Promise<SentTransaction>;
  /** The cluster's clock (Clock sysvar unix timestamp), which the program's windows are checked against. */
  now(): Promise<bigint>;
  getLamports(address: Address): Promise<bigint>;
  /** Funds a wallet with SOL where the cluster allows it (local validator faucet, embedded SVM). */
  airdrop(address: Address, lamports: bigint): Promise<void>;
  /** Rent-exempt minimum for an account of `space` bytes. */
  rentExemption(space: number): Promise<bigint>;
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
