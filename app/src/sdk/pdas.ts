// Every address the program derives or checks, computed client-side. The seeds are those of
// programs/data_market/src/state/seeds.rs; where the IDL describes a PDA, the generated finder is used.
import {
  getAddressEncoder,
  getProgramDerivedAddress,
  getU64Encoder,
  type Address,
  type ReadonlyUint8Array,
} from "@solana/kit";

import { findFrontEndPda, findLicenseMintPda, findMarketplacePda } from "../generated/pdas/index.js";
import {
  ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
  BPF_LOADER_UPGRADEABLE_PROGRAM_ADDRESS,
  DATA_MARKET_PROGRAM_ADDRESS,
  TOKEN_2022_PROGRAM_ADDRESS,
} from "./constants.js";

const addressEncoder = getAddressEncoder();
const text = new TextEncoder();

function assertHash(name: string, bytes: ReadonlyUint8Array): void {
  if (bytes.length !== 32) throw new RangeError(`${name} must be 32 bytes, got ${bytes.length}`);
}

/** A PDA of the program whose address the program checks itself (the IDL does not describe it). */
async function derive(label: string, ...parts: (Address | ReadonlyUint8Array)[]): Promise<Address> {
  const [pda] = await getProgramDerivedAddress({
    programAddress: DATA_MARKET_PROGRAM_ADDRESS,
    seeds: [text.encode(label), ...parts.map((part) => (typeof part === "string" ? addressEncoder.encode(part) : part))],
  });
  return pda;
}

/** ["marketplace"]: the one marketplace configuration. */
export async function findMarketplaceAddress(): Promise<Address> {
  return (await findMarketplacePda())[0];
}

/** ["dataset", content_hash, owner]: the dataset an owner registered for a plaintext SHA-256. */
export async function findDatasetAddress(contentHash: ReadonlyUint8Array, owner: Address): Promise<Address> {
  assertHash("contentHash", contentHash);
  return derive("dataset", contentHash, owner);
}

/**
 * ["content", content_hash]: which dataset holds a content hash (a hash registers once; the operator
 * can release a squatted one to its rightful owner).
 */
export async function findContentHashRecordAddress(contentHash: ReadonlyUint8Array): Promise<Address> {
  assertHash("contentHash", contentHash);
  return derive("content", contentHash);
}

/** ["front_end", wallet]: the operator's registration of a front-end that may refer purchases. */
export async function findFrontEndAddress(wallet: Address): Promise<Address> {
  return (await findFrontEndPda({ wallet }))[0];
}

/** ["license_mint", dataset]: the dataset's Token-2022 licence mint. */
export async function findLicenseMintAddress(dataset: Address): Promise<Address> {
  return (await findLicenseMintPda({ dataset }))[0];
}

/** ["license", dataset, buyer]: a buyer's licence to a dataset. */
export async function findLicenseAddress(dataset: Address, buyer: Address): Promise<Address> {
  return derive("license", dataset, buyer);
}

/**
 * ["receipt", license, serial (u64 LE), index (u64 LE)]: one recorded use of a licence. `serial` is
 * the licence's sale number (`license.serial`, unique even when a buyer buys again after closing a
 * licence); the next use of a licence has `index = license.usageCount`.
 */
export async function findUsageReceiptAddress(
  license: Address,
  serial: bigint | number,
  index: bigint | number,
): Promise<Address> {
  const [pda] = await getProgramDerivedAddress({
    programAddress: DATA_MARKET_PROGRAM_ADDRESS,
    seeds: [
      text.encode("receipt"),
      addressEncoder.encode(license),
      getU64Encoder().encode(serial),
      getU64Encoder().encode(index),
    ],
  });
  return pda;
}

/** ["review", license]: the one review of a licence. */
export async function findReviewAddress(license: Address): Promise<Address> {
  return derive("review", license);
}

/** ["dispute", license]: the dispute record of a licence. */
export async function findDisputeAddress(license: Address): Promise<Address> {
  return derive("dispute", license);
}

/** ["allow", dataset, buyer]: the buyer's entry on a dataset's allow-list. */
export async function findAllowListEntryAddress(dataset: Address, buyer: Address): Promise<Address> {
  return derive("allow", dataset, buyer);
}

/** The associated token account of `owner` for `mint` under `tokenProgram`. */
export async function findAssociatedTokenAddress(
  owner: Address,
  mint: Address,
  tokenProgram: Address,
): Promise<Address> {
  const [pda] = await getProgramDerivedAddress({
    programAddress: ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
    seeds: [addressEncoder.encode(owner), addressEncoder.encode(tokenProgram), addressEncoder.encode(mint)],
  });
  return pda;
}

/**
 * The dataset's escrow vault: the dataset PDA's associated token account for the payment mint, under
 * the payment mint's token program (SPL Token or Token-2022).
 */
export async function findEscrowVaultAddress(
  dataset: Address,
  paymentMint: Address,
  paymentTokenProgram: Address,
): Promise<Address> {
  return findAssociatedTokenAddress(dataset, paymentMint, paymentTokenProgram);
}

/** A holder's licence token account: associated, Token-2022. */
export async function findLicenseTokenAccountAddress(holder: Address, licenseMint: Address): Promise<Address> {
  return findAssociatedTokenAddress(holder, licenseMint, TOKEN_2022_PROGRAM_ADDRESS);
}

/** The program's ProgramData account (upgradeable loader, seeds [program id]); it names the upgrade authority. */
export async function findProgramDataAddress(programAddress: Address = DATA_MARKET_PROGRAM_ADDRESS): Promise<Address> {
  const [pda] = await getProgramDerivedAddress({
    programAddress: BPF_LOADER_UPGRADEABLE_PROGRAM_ADDRESS,
    seeds: [addressEncoder.encode(programAddress)],
  });
  return pda;
}

/** ["preview_policy", dataset]: the dataset's chunk-tree root and preview limits. */
export async function findPreviewPolicyAddress(dataset: Address): Promise<Address> {
  return derive("preview_policy", dataset);
}

/** ["preview", dataset, buyer, nonce (u64 LE)]: one preview a buyer asked for. */
export async function findPreviewRequestAddress(dataset: Address, buyer: Address, nonce: bigint | number): Promise<Address> {
  return derive("preview", dataset, buyer, getU64Encoder().encode(nonce));
}
