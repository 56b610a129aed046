// Runs the real compiled program (target/deploy/data_market.so) in LiteSVM, with LiteSVM's own SPL
// Token, Token-2022 and Associated Token programs. Transactions are built by the SDK, signed with kit
// and executed by the SVM; every account a transaction touched is remembered so listings can be
// answered from "the accounts the SVM holds" with the SDK's own filters.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

import {
  generateKeyPairSigner,
  getAddressEncoder,
  getU32Encoder,
  getU64Decoder,
  getU64Encoder,
  lamports,
  signTransactionMessageWithSigners,
  type Address,
  type EncodedAccount,
  type Instruction,
  type KeyPairSigner,
  type MaybeEncodedAccount,
  type TransactionSigner,
  AccountRole,
  type AccountSignerMeta,
} from "@solana/kit";
import { getInitializeMint2Instruction, getMintToInstruction } from "@solana-program/token";
import { Clock, FailedTransactionMetadata, LiteSVM, type TransactionMetadata } from "litesvm";

import {
  BPF_LOADER_UPGRADEABLE_PROGRAM_ADDRESS,
  DATA_MARKET_PROGRAM_ADDRESS,
  SYSTEM_PROGRAM_ADDRESS,
  TOKEN_PROGRAM_ADDRESS,
  buildTransactionMessage,
  createAssociatedTokenIdempotentInstruction,
  findAssociatedTokenAddress,
  findProgramDataAddress,
  type AccountReader,
} from "../src/sdk/index.js";

export const PROGRAM_SO = fileURLToPath(new URL("../../target/deploy/data_market.so", import.meta.url));

/** A transaction the SVM rejected, with its result (logs, error) for the SDK's error mapping. */
export class FailedTransaction extends Error {
  constructor(
    readonly result: FailedTransactionMetadata,
    readonly instructions: readonly Instruction[],
  ) {
    super(`transaction failed: ${result.toString()}\n${result.meta().logs().join("\n")}`);
    this.name = "FailedTransaction";
  }

  get logs(): string[] {
    return this.result.meta().logs();
  }
}

export class Market {
  readonly svm: LiteSVM;
  /** Every account address any transaction referenced. */
  private readonly touched = new Set<Address>();

  private constructor(svm: LiteSVM) {
    this.svm = svm;
  }

  static async start(): Promise<Market> {
    assert.ok(existsSync(PROGRAM_SO), `${PROGRAM_SO} is missing: build the program first`);
    const svm = new LiteSVM();
    svm.addProgramFromFile(DATA_MARKET_PROGRAM_ADDRESS, PROGRAM_SO);
    const market = new Market(svm);
    market.setTime(1_750_000_000n);
    return market;
  }

  /** AccountReader over the SVM's accounts. */
  readonly reader: AccountReader = {
    getAccounts: async (addresses) => addresses.map((a) => this.svm.getAccount(a)),
  };

  /**
   * Makes `authority` the program's upgrade authority, as a deployment does: rewrites the ProgramData
   * account (bincode UpgradeableLoaderState::ProgramData: u32 tag 3, u64 slot, Some(authority)),
   * keeping the program bytes after the 45-byte header.
   */
  async setUpgradeAuthority(authority: Address): Promise<void> {
    const address = await findProgramDataAddress();
    const existing = this.svm.getAccount(address);
    const program = existing.exists ? existing.data.subarray(45) : new Uint8Array(0);
    const data = new Uint8Array(45 + program.length);
    data.set(getU32Encoder().encode(3), 0);
    data.set(getU64Encoder().encode(0n), 4);
    data[12] = 1;
    data.set(getAddressEncoder().encode(authority), 13);
    data.set(program, 45);
    this.svm.setAccount({
      address,
      data,
      executable: false,
      lamports: lamports(this.svm.minimumBalanceForRentExemption(BigInt(data.length))),
      programAddress: BPF_LOADER_UPGRADEABLE_PROGRAM_ADDRESS,
      space: BigInt(data.length),
    });
  }

  now(): bigint {
    return this.svm.getClock().unixTimestamp;
  }

  /** Sets the Clock sysvar's unix timestamp. */
  setTime(unixTimestamp: bigint): void {
    const clock = this.svm.getClock();
    this.svm.setClock(
      new Clock(clock.slot + 1n, clock.epochStartTimestamp, clock.epoch, clock.leaderScheduleEpoch, unixTimestamp),
    );
  }

  advance(seconds: bigint | number): void {
    this.setTime(this.now() + BigInt(seconds));
  }

  async wallet(sol = 10n): Promise<KeyPairSigner> {
    const signer = await generateKeyPairSigner();
    this.svm.airdrop(signer.address, lamports(sol * 1_000_000_000n));
    return signer;
  }

  /** Signs with every signer attached to the instructions and executes; throws FailedTransaction. */
  async send(feePayer: TransactionSigner, instructions: readonly Instruction[]): Promise<TransactionMetadata> {
    for (const ix of instructions) {
      this.touched.add(ix.programAddress);
      for (const meta of ix.accounts ?? []) this.touched.add(meta.address);
    }
    const message = buildTransactionMessage({
      feePayer,
      instructions,
      lifetime: { blockhash: this.svm.latestBlockhash(), lastValidBlockHeight: 1_000_000n },
    });
    const transaction = await signTransactionMessageWithSigners(message);
    const result = this.svm.sendTransaction(transaction);
    this.svm.expireBlockhash();
    if (result instanceof FailedTransactionMetadata) throw new FailedTransaction(result, instructions);
    return result;
  }

  /** Sends and returns the failure (asserting that it fails). */
  async sendFailing(feePayer: TransactionSigner, instructions: readonly Instruction[]): Promise<FailedTransaction> {
    try {
      await this.send(feePayer, instructions);
    } catch (error) {
      if (error instanceof FailedTransaction) return error;
      throw error;
    }
    assert.fail("the transaction was expected to fail");
  }

  /** The data market program's accounts among every account the transactions referenced. */
  programAccounts(): EncodedAccount[] {
    return [...this.touched]
      .map((a) => this.svm.getAccount(a))
      .filter((a): a is MaybeEncodedAccount & { exists: true } => a.exists)
      .filter((a) => a.programAddress === DATA_MARKET_PROGRAM_ADDRESS);
  }

  /** Remembers accounts created by the program whose addresses no instruction named (receipts). */
  remember(...addresses: Address[]): void {
    for (const a of addresses) this.touched.add(a);
  }

  // -------------------------------------------------------------------------------------------
  // SPL Token helpers (real Token program instructions).

  /** Creates an SPL Token mint (`decimals`) whose authority is `authority`. */
  async createMint(payer: KeyPairSigner, authority: Address, decimals: number): Promise<Address> {
    const mint = await generateKeyPairSigner();
    const space = 82n;
    const rent = this.svm.minimumBalanceForRentExemption(space);
    const createAccount: Instruction = {
      programAddress: SYSTEM_PROGRAM_ADDRESS,
      accounts: [
        { address: payer.address, role: AccountRole.WRITABLE_SIGNER, signer: payer } as AccountSignerMeta,
        { address: mint.address, role: AccountRole.WRITABLE_SIGNER, signer: mint } as AccountSignerMeta,
      ],
      data: new Uint8Array([
        ...getU32Encoder().encode(0),
        ...getU64Encoder().encode(rent),
        ...getU64Encoder().encode(space),
        ...getAddressEncoder().encode(TOKEN_PROGRAM_ADDRESS),
      ]),
    };
    await this.send(payer, [
      createAccount,
      getInitializeMint2Instruction({ mint: mint.address, decimals, mintAuthority: authority }),
    ]);
    return mint.address;
  }

  /** Mints `amount` to `owner`'s associated account (created if needed); returns that account. */
  async mintTo(payer: KeyPairSigner, mint: Address, authority: KeyPairSigner, owner: Address, amount: bigint): Promise<Address> {
    const account = await findAssociatedTokenAddress(owner, mint, TOKEN_PROGRAM_ADDRESS);
    await this.send(payer, [
      await createAssociatedTokenIdempotentInstruction({ payer, owner, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS }),
      getMintToInstruction({ mint, token: account, mintAuthority: authority, amount }),
    ]);
    return account;
  }

  /** Creates `owner`'s (empty) associated account for `mint`; returns it. */
  async tokenAccount(payer: KeyPairSigner, mint: Address, owner: Address, tokenProgram = TOKEN_PROGRAM_ADDRESS): Promise<Address> {
    await this.send(payer, [await createAssociatedTokenIdempotentInstruction({ payer, owner, mint, tokenProgram })]);
    return findAssociatedTokenAddress(owner, mint, tokenProgram);
  }

  /** A token account's amount (0 when it does not exist). */
  balance(tokenAccount: Address): bigint {
    const account = this.svm.getAccount(tokenAccount);
    if (!account.exists) return 0n;
    return getU64Decoder().decode(account.data, 64);
  }
}
