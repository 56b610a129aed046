// SPL Token set-up the marketplace needs around it: a USDC-like payment mint for local clusters,
// funded wallets, token accounts and balances. Real SPL Token instructions, sent like any other.
import { generateKeyPairSigner, type Address, type TransactionSigner } from "@solana/kit";
import { getCreateAccountInstruction } from "@solana-program/system";
import { getInitializeMint2Instruction, getMintSize, getMintToInstruction } from "@solana-program/token";

import {
  TOKEN_PROGRAM_ADDRESS,
  createAssociatedTokenIdempotentInstruction,
  fetchTokenBalance,
  fetchTokenProgramOfMint,
  findAssociatedTokenAddress,
} from "../sdk/index.js";
import type { MarketConnection } from "./connection.js";

/** Offsets in a mint account (SPL Token and Token-2022 alike): `decimals`, then the freeze authority's option tag. */
const MINT_DECIMALS_OFFSET = 44;
const MINT_FREEZE_AUTHORITY_TAG_OFFSET = 46;

export interface MintInfo {
  address: Address;
  decimals: number;
  tokenProgram: Address;
  /**
   * The mint has a freeze authority (USDC has one): its issuer could freeze the dataset's escrow
   * vault and hold up payouts and refunds.
   */
  freezable: boolean;
}

/** Creates an SPL Token mint with `authority` as mint authority (no freeze authority). */
export async function createMint(
  connection: MarketConnection,
  payer: TransactionSigner,
  authority: Address,
  decimals: number,
): Promise<Address> {
  const mint = await generateKeyPairSigner();
  const space = getMintSize();
  await connection.send(payer, [
    getCreateAccountInstruction({
      payer,
      newAccount: mint,
      lamports: await connection.rentExemption(space),
      space,
      programAddress: TOKEN_PROGRAM_ADDRESS,
    }),
    getInitializeMint2Instruction({ mint: mint.address, decimals, mintAuthority: authority }),
  ]);
  return mint.address;
}

export async function fetchMintInfo(connection: MarketConnection, mint: Address): Promise<MintInfo> {
  const tokenProgram = await fetchTokenProgramOfMint(connection, mint);
  const [account] = await connection.getAccounts([mint]);
  if (!account?.exists || account.data.length <= MINT_DECIMALS_OFFSET) throw new Error(`${mint} is not a mint`);
  return {
    address: mint,
    decimals: account.data[MINT_DECIMALS_OFFSET]!,
    tokenProgram,
    freezable: account.data[MINT_FREEZE_AUTHORITY_TAG_OFFSET] === 1,
  };
}

/** `owner`'s associated token account for `mint`, created (idempotently) when missing. */
export async function ensureTokenAccount(
  connection: MarketConnection,
  payer: TransactionSigner,
  mint: MintInfo,
  owner: Address,
): Promise<Address> {
  const account = await findAssociatedTokenAddress(owner, mint.address, mint.tokenProgram);
  const [existing] = await connection.getAccounts([account]);
  if (!existing?.exists) {
    await connection.send(payer, [
      await createAssociatedTokenIdempotentInstruction({
        payer,
        owner,
        mint: mint.address,
        tokenProgram: mint.tokenProgram,
      }),
    ]);
  }
  return account;
}

/** Mints `amount` base units to `owner`'s associated account (created if needed). */
export async function mintTo(
  connection: MarketConnection,
  payer: TransactionSigner,
  mint: MintInfo,
  mintAuthority: TransactionSigner,
  owner: Address,
  amount: bigint,
): Promise<Address> {
  const account = await findAssociatedTokenAddress(owner, mint.address, mint.tokenProgram);
  await connection.send(payer, [
    await createAssociatedTokenIdempotentInstruction({ payer, owner, mint: mint.address, tokenProgram: mint.tokenProgram }),
    getMintToInstruction({ mint: mint.address, token: account, mintAuthority, amount }, { programAddress: mint.tokenProgram }),
  ]);
  return account;
}

/** A token account's balance; 0 when the account does not exist. */
export async function tokenBalance(connection: MarketConnection, tokenAccount: Address): Promise<bigint> {
  return (await fetchTokenBalance(connection, tokenAccount)) ?? 0n;
}

/** `owner`'s balance of `mint` in its associated account. */
export async function walletTokenBalance(connection: MarketConnection, mint: MintInfo, owner: Address): Promise<bigint> {
  return tokenBalance(connection, await findAssociatedTokenAddress(owner, mint.address, mint.tokenProgram));
}
