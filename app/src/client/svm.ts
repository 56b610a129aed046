// An embedded SVM: LiteSVM running the compiled program (target/deploy/data_market.so) with its own
// SPL Token, Token-2022 and Associated Token programs, in this process. No validator, no network:
// the narrated journey and the CLI tests run here, and its clock can be moved forward.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

import {
  getAddressEncoder,
  getBase58Decoder,
  getU32Encoder,
  getU64Encoder,
  isWritableRole,
  lamports,
  signTransactionMessageWithSigners,
  type Address,
  type Instruction,
  type TransactionSigner,
} from "@solana/kit";
import { Clock, FailedTransactionMetadata, LiteSVM, type TransactionMetadata } from "litesvm";

import {
  BPF_LOADER_UPGRADEABLE_PROGRAM_ADDRESS,
  DATA_MARKET_PROGRAM_ADDRESS,
  buildTransactionMessage,
  findProgramDataAddress,
  matchesFilters,
} from "../sdk/index.js";
import { TransactionFailedError, type MarketConnection, type SendOptions, type SentTransaction } from "./connection.js";
import { MAX_COMPUTE_UNIT_LIMIT } from "./landing.js";
import { withComputeBudget } from "./rpc.js";

/** Where both build routes write the program. */
export const DEFAULT_PROGRAM_SO = fileURLToPath(new URL("../../../target/deploy/data_market.so", import.meta.url));

/** Bytes of ProgramData's header (bincode UpgradeableLoaderState::ProgramData) before the program. */
const PROGRAM_DATA_HEADER_LEN = 45;

export interface SvmConnectionOptions {
  programSo?: string;
  /** The program's upgrade authority (only it may initialize the marketplace), as a deployment sets it. */
  upgradeAuthority?: Address;
  /** Starting unix time of the clock. */
  unixTimestamp?: bigint;
}

export class SvmConnection implements MarketConnection {
  readonly label = "embedded SVM";
  readonly canAdvanceTime = true;
  readonly svm: LiteSVM;
  /** The first successful transaction that wrote each account (the SVM keeps no history itself). */
  private readonly firstWrites = new Map<Address, { signature: string; slot: bigint }>();

  private constructor(svm: LiteSVM) {
    this.svm = svm;
  }

  static async start(options: SvmConnectionOptions = {}): Promise<SvmConnection> {
    const programSo = options.programSo ?? DEFAULT_PROGRAM_SO;
    if (!existsSync(programSo)) {
      throw new Error(`the program is not built (${programSo} is missing): run scripts/build-program.sh`);
    }
    const svm = new LiteSVM();
    svm.addProgramFromFile(DATA_MARKET_PROGRAM_ADDRESS, programSo);
    const connection = new SvmConnection(svm);
    connection.setTime(options.unixTimestamp ?? BigInt(Math.floor(Date.now() / 1000)));
    if (options.upgradeAuthority) await connection.setUpgradeAuthority(options.upgradeAuthority);
    return connection;
  }

  /**
   * Makes `authority` the program's upgrade authority: writes the ProgramData account (bincode
   * ProgramData: u32 tag 3, u64 slot, Some(authority)) that an upgradeable deployment creates.
   */
  async setUpgradeAuthority(authority: Address): Promise<void> {
    const address = await findProgramDataAddress();
    const existing = this.svm.getAccount(address);
    const program = existing.exists ? existing.data.subarray(PROGRAM_DATA_HEADER_LEN) : new Uint8Array(0);
    const data = new Uint8Array(PROGRAM_DATA_HEADER_LEN + program.length);
    data.set(getU32Encoder().encode(3), 0);
    data.set(getU64Encoder().encode(0n), 4);
    data[12] = 1;
    data.set(getAddressEncoder().encode(authority), 13);
    data.set(program, PROGRAM_DATA_HEADER_LEN);
    this.svm.setAccount({
      address,
      data,
      executable: false,
      lamports: lamports(this.svm.minimumBalanceForRentExemption(BigInt(data.length))),
      programAddress: BPF_LOADER_UPGRADEABLE_PROGRAM_ADDRESS,
      space: BigInt(data.length),
    });
  }

  async getAccounts(addresses: readonly Address[]) {
    return addresses.map((a) => this.svm.getAccount(a));
  }

  async getProgramAccounts(filters: Parameters<MarketConnection["getProgramAccounts"]>[0]) {
    return this.svm
      .getProgramAccounts(DATA_MARKET_PROGRAM_ADDRESS)
      .filter((account) => matchesFilters(account.data, filters));
  }

  /** Signs and executes; returns LiteSVM's own result, success or failure (for tests of error mapping). */
  async execute(
    feePayer: TransactionSigner,
    instructions: readonly Instruction[],
  ): Promise<TransactionMetadata | FailedTransactionMetadata> {
    const message = buildTransactionMessage({
      feePayer,
      instructions,
      lifetime: { blockhash: this.svm.latestBlockhash(), lastValidBlockHeight: 1_000_000n },
    });
    const transaction = await signTransactionMessageWithSigners(message);
    const result = this.svm.sendTransaction(transaction);
    if (!(result instanceof FailedTransactionMetadata)) this.recordWrites(instructions, result);
    // A fresh blockhash per transaction, so identical transactions are not rejected as duplicates.
    this.svm.expireBlockhash();
    return result;
  }

  /**
   * Executes at once: nothing competes for block space here, so no compute budget is chosen. A
   * limit or fee given in `options` is set as given (both, when either is), like on a cluster.
   */
  async send(feePayer: TransactionSigner, instructions: readonly Instruction[], options: SendOptions = {}): Promise<SentTransaction> {
    const budgeted = options.computeUnitLimit !== undefined || options.priorityFeeMicroLamports !== undefined;
    const limit = options.computeUnitLimit ?? MAX_COMPUTE_UNIT_LIMIT;
    const fee = options.priorityFeeMicroLamports ?? 0n;
    const all = budgeted ? withComputeBudget(instructions, limit, fee) : instructions;
    const result = await this.execute(feePayer, all);
    if (result instanceof FailedTransactionMetadata) {
      throw TransactionFailedError.from(result, result.meta().logs(), all);
    }
    return {
      signature: getBase58Decoder().decode(result.signature()),
      logs: result.logs(),
      computeUnits: result.computeUnitsConsumed(),
      budget: budgeted
        ? { computeUnitLimit: limit, limitSource: "option", priorityFeeMicroLamports: fee, feeSource: "option" }
        : undefined,
    };
  }

  private recordWrites(instructions: readonly Instruction[], result: TransactionMetadata): void {
    const written = { signature: getBase58Decoder().decode(result.signature()), slot: this.svm.getClock().slot };
    for (const instruction of instructions) {
      for (const account of instruction.accounts ?? []) {
        if (isWritableRole(account.role) && !this.firstWrites.has(account.address)) this.firstWrites.set(account.address, written);
      }
    }
  }

  async now(): Promise<bigint> {
    return this.svm.getClock().unixTimestamp;
  }

  setTime(unixTimestamp: bigint): void {
    const clock = this.svm.getClock();
    this.svm.setClock(
      new Clock(clock.slot + 1n, clock.epochStartTimestamp, clock.epoch, clock.leaderScheduleEpoch, unixTimestamp),
    );
  }

  async advanceTime(seconds: bigint): Promise<void> {
    this.setTime(this.svm.getClock().unixTimestamp + seconds);
  }

  async getLamports(address: Address): Promise<bigint> {
    return this.svm.getBalance(address) ?? 0n;
  }

  async airdrop(address: Address, amount: bigint): Promise<void> {
    const result = this.svm.airdrop(address, lamports(amount));
    if (result instanceof FailedTransactionMetadata) throw new Error(`airdrop failed: ${result.toString()}`);
  }

  async rentExemption(space: number): Promise<bigint> {
    return this.svm.minimumBalanceForRentExemption(BigInt(space));
  }

  async firstTransaction(address: Address): Promise<{ signature: string; slot: bigint } | null> {
    return this.firstWrites.get(address) ?? null;
  }

  async close(): Promise<void> {}
}
