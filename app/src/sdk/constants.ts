// Addresses, limits and account layouts of the data market program that the SDK relies on. The
// limits mirror programs/data_market/src/constants.rs; the layouts mirror the field order of the
// account structs in programs/data_market/src/state/ (checked against real accounts by the tests).
import { address, type Address } from "@solana/kit";

import { DATA_MARKET_PROGRAM_ADDRESS } from "../generated/programs/index.js";

export { DATA_MARKET_PROGRAM_ADDRESS };

export const SYSTEM_PROGRAM_ADDRESS = address("11111111111111111111111111111111");
export const TOKEN_PROGRAM_ADDRESS = address("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
export const TOKEN_2022_PROGRAM_ADDRESS = address("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
export const ASSOCIATED_TOKEN_PROGRAM_ADDRESS = address("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
export const BPF_LOADER_UPGRADEABLE_PROGRAM_ADDRESS = address("BPFLoaderUpgradeab1e11111111111111111111111");

/** `Pubkey::default()`: the program's "none" for optional keys (referrer, delegate, versions, attestor). */
export const DEFAULT_ADDRESS = address("11111111111111111111111111111111");

export const BPS_DENOMINATOR = 10_000;
export const MAX_PROTOCOL_FEE_BPS = 1_000;
export const MAX_REFERRAL_FEE_BPS = 2_000;
export const MAX_RECIPIENTS = 5;
export const MAX_TAGS = 5;
export const TAG_LEN = 24;
export const MAX_TITLE_LEN = 64;
export const MAX_METADATA_URI_LEN = 96;
export const MAX_CID_LEN = 64;
export const MAX_REVIEW_URI_LEN = 100;
export const MAX_EVIDENCE_URI_LEN = 200;
export const SEALED_KEY_LEN = 96;
export const MAX_CREDITS_PER_PURCHASE = 1_000_000;
export const MAX_DELIVERY_WINDOW_SECS = 30 * 24 * 60 * 60;
export const MAX_DISPUTE_WINDOW_SECS = 30 * 24 * 60 * 60;
/** Bounds of the operator's minimum windows (marketplace policy; datasets set at least these). */
export const MIN_WINDOW_FLOOR_SECS = 5;
export const MIN_WINDOW_CAP_SECS = 7 * 24 * 60 * 60;
/** The minimum windows `market init` sets unless told otherwise: a production marketplace's hour. */
export const DEFAULT_MIN_WINDOW_SECS = 60 * 60;
export const MAX_LICENSE_DURATION_SECS = 10 * 365 * 24 * 60 * 60;

/**
 * Every program account starts with the same header: the 8-byte discriminator, then `revision`
 * (u64), bumped on every write. A 16-byte slice of each account tells which ones changed.
 */
export const REVISION_OFFSET = 8;
/** Where an account's own fields start, after the header. */
const FIELDS = REVISION_OFFSET + 8;

/** Byte offsets (header included) of the fixed-position fields that listings filter on. */
export const LAYOUT = {
  dataset: { owner: FIELDS, contentHash: FIELDS + 32, category: FIELDS + 64, state: FIELDS + 65, tags: FIELDS + 66 },
  license: { dataset: FIELDS, buyer: FIELDS + 32 },
  usageReceipt: { dataset: FIELDS, license: FIELDS + 32, modelHash: FIELDS + 64, holder: FIELDS + 96 },
  review: { license: FIELDS, dataset: FIELDS + 32, reviewer: FIELDS + 64 },
  dispute: { license: FIELDS, dataset: FIELDS + 32 },
  allowListEntry: { dataset: FIELDS, buyer: FIELDS + 32 },
  previewPolicy: { dataset: FIELDS },
  previewRequest: { dataset: FIELDS, buyer: FIELDS + 32 },
} as const;

/** A token account's `amount` (u64 LE) in the SPL Token and Token-2022 layouts. */
export const TOKEN_ACCOUNT_AMOUNT_OFFSET = 64;

export function isDefaultAddress(value: Address): boolean {
  return value === DEFAULT_ADDRESS;
}

/** Previews: chunks one preview reveals at most, one revealed chunk per this many at least. */
export const MAX_PREVIEW_CHUNKS = 8;
export const MIN_CHUNKS_PER_REVEALED = 8;
export const MIN_PREVIEW_PERIOD_SECS = 60;
export const MAX_PREVIEW_PERIOD_SECS = 30 * 24 * 60 * 60;
/** Slots the owner has to answer a preview request. */
export const PREVIEW_ANSWER_SLOTS = 150n;
/** Domain separation of the preview draw's seed. */
export const PREVIEW_DRAW_DOMAIN = "data-market preview v1";
/** The SlotHashes sysvar: each recent slot's hash, newest first. */
export const SLOT_HASHES_SYSVAR_ADDRESS = address("SysvarS1otHashes111111111111111111111111111");
