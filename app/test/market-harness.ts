// Runs the real compiled program (target/deploy/data_market.so) in LiteSVM, with LiteSVM's own SPL
// Token, Token-2022 and Associated Token programs, through the client's SvmConnection. Transactions
// are built by the SDK, signed with kit and executed by the SVM; `send` returns LiteSVM's own result
// objects so the tests can check the SDK's error mapping on them. Listings are answered from the
// program's accounts in the SVM with the SDK's own filters.
import assert from "node:assert/strict";

import {
  generateKeyPairSigner,
  getU64Decoder,
  lamports,
  type Address,
  type EncodedAccount,
  type Instruction,
  type KeyPairSigner,
  type TransactionSigner,
} from "@solana/kit";
import { FailedTransactionMetadata, LiteSVM, type TransactionMetadata } from "litesvm";

import { createMint, ensureTokenAccount, mintTo } from "../src/client/index.js";
import { SvmConnection } from "../src/client/svm.js";
import {
  DATA_MARKET_PROGRAM_ADDRESS,
  TOKEN_ACCOUNT_AMOUNT_OFFSET,
  TOKEN_PROGRAM_ADDRESS,
  type AccountReader,
} from "../src/sdk/index.js";


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

  private constructor(readonly connection: SvmConnection) {
    this.svm = connection.svm;
  }

  static async start(): Promise<Market> {
    // SvmConnection.start refuses clearly when target/deploy/data_market.so is not built.
    return new Market(await SvmConnection.start({ unixTimestamp: 1_750_000_000n }));
  }

  /** AccountReader over the SVM's accounts. */
  get reader(): AccountReader {
    return this.connection;
  }

  /** Makes `authority` the program's upgrade authority, as a deployment does. */
  setUpgradeAuthority(authority: Address): Promise<void> {
    return this.connection.setUpgradeAuthority(authority);
  }

  now(): bigint {
    return this.svm.getClock().unixTimestamp;
  }

  /** Sets the Clock sysvar's unix timestamp. */
  setTime(unixTimestamp: bigint): void {
    this.connection.setTime(unixTimestamp);
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
    const result = await this.connection.execute(feePayer, instructions);
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

  /** The data market program's accounts, as getProgramAccounts would list them. */
  programAccounts(): EncodedAccount[] {
    return this.svm.getProgramAccounts(DATA_MARKET_PROGRAM_ADDRESS);
  }

  // -------------------------------------------------------------------------------------------
  // SPL Token helpers (the client's, over this SVM).

  /** Creates an SPL Token mint (`decimals`) whose authority is `authority`. */
  createMint(payer: KeyPairSigner, authority: Address, decimals: number): Promise<Address> {
    return createMint(this.connection, payer, authority, decimals);
  }

  /** Mints `amount` to `owner`'s associated account (created if needed); returns that account. */
  mintTo(payer: KeyPairSigner, mint: Address, authority: KeyPairSigner, owner: Address, amount: bigint): Promise<Address> {
    return mintTo(this.connection, payer, splMint(mint), authority, owner, amount);
  }

  /** Creates `owner`'s (empty) associated account for `mint`; returns it. */
  tokenAccount(payer: KeyPairSigner, mint: Address, owner: Address): Promise<Address> {
    return ensureTokenAccount(this.connection, payer, splMint(mint), owner);
  }

  /** A token account's amount (0 when it does not exist). */
  balance(tokenAccount: Address): bigint {
    const account = this.svm.getAccount(tokenAccount);
    if (!account.exists) return 0n;
    return getU64Decoder().decode(account.data, TOKEN_ACCOUNT_AMOUNT_OFFSET);
  }
}

/** An SPL Token mint; decimals are not needed by the helpers above. */
function splMint(address: Address) {
  return { address, decimals: 0, tokenProgram: TOKEN_PROGRAM_ADDRESS, freezable: false };
}
