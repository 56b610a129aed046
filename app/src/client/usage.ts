// What a licence holder does after buying, shared by the CLI and the web dapp: record a use (an
// on-chain receipt naming the model), and review the dataset (a new review, or an edit of one's own).
import type { Address } from "@solana/kit";
import { sha256 } from "@noble/hashes/sha2.js";

import { fromHex } from "../crypto/bytes.js";
import {
  DatasetCategory,
  DisputeReason,
  UsagePurpose,
  buildRecordUsage,
  buildSubmitReview,
  buildUpdateReview,
  fetchMaybeLicense,
  fetchReviewOfLicense,
  findLicenseAddress,
  findUsageReceiptAddress,
} from "../sdk/index.js";
import type { MarketConnection } from "./connection.js";
import { ClientError } from "./errors.js";
import type { MarketWallet } from "./wallet.js";

/** Dataset categories by the names the CLI takes and documents (a bill of data) carry. */
export const DATASET_CATEGORIES = {
  text: DatasetCategory.Text,
  image: DatasetCategory.Image,
  audio: DatasetCategory.Audio,
  video: DatasetCategory.Video,
  code: DatasetCategory.Code,
  tabular: DatasetCategory.Tabular,
  multimodal: DatasetCategory.Multimodal,
  other: DatasetCategory.Other,
};

/** The name of an enum value in one of these tables. */
export function nameIn(table: Record<string, number>, value: number): string {
  return Object.entries(table).find(([, v]) => v === value)?.[0] ?? String(value);
}

/** Usage purposes by the names the CLI takes and the dapp shows. */
export const USAGE_PURPOSES = {
  training: UsagePurpose.Training,
  "fine-tuning": UsagePurpose.FineTuning,
  evaluation: UsagePurpose.Evaluation,
  rag: UsagePurpose.InferenceRag,
  other: UsagePurpose.Other,
};

/** Dispute reasons by the names the CLI takes and the dapp shows. */
export const DISPUTE_REASONS = {
  "hash-mismatch": DisputeReason.HashMismatch,
  "key-invalid": DisputeReason.KeyInvalid,
  unavailable: DisputeReason.DataUnavailable,
  "not-as-described": DisputeReason.NotAsDescribed,
  other: DisputeReason.Other,
};

/** A run id: up to 32 bytes of text, zero-padded (or a 64-char hex value); none is all zeros. */
export function runIdBytes(text: string | undefined, what = "the run id"): Uint8Array {
  if (text === undefined) return new Uint8Array(32);
  if (/^[0-9a-fA-F]{64}$/.test(text)) return fromHex(text);
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 32) throw new ClientError("usage", `${what} is at most 32 bytes (or 64 hex characters)`);
  const out = new Uint8Array(32);
  out.set(bytes);
  return out;
}

/** A model hash typed in: 64 hex characters, or null. */
export function modelHashFromHex(text: string): Uint8Array | null {
  const trimmed = text.trim();
  return /^[0-9a-fA-F]{64}$/.test(trimmed) ? fromHex(trimmed) : null;
}

/** sha256 of a text in UTF-8 (what a review's `textHash` commits to). */
export function sha256Utf8(text: string): Uint8Array {
  return sha256(new TextEncoder().encode(text));
}

export interface RecordedUse {
  receipt: Address;
  license: Address;
  signature: string;
}

/** Records one use of `dataset` by the wallet's licence (burns a credit when metered). */
export async function recordUsage(
  connection: MarketConnection,
  holder: MarketWallet,
  input: { dataset: Address; modelHash: Uint8Array; purpose: UsagePurpose; runId: Uint8Array },
): Promise<RecordedUse> {
  const license = await findLicenseAddress(input.dataset, holder.signer.address);
  const before = await fetchMaybeLicense(connection, license);
  if (!before) throw new ClientError("refused", `you hold no licence for dataset ${input.dataset}`);
  const { signature } = await connection.send(
    holder.signer,
    await buildRecordUsage(connection, {
      holder: holder.signer,
      license,
      purpose: input.purpose,
      modelHash: input.modelHash,
      runId: input.runId,
    }),
  );
  const receipt = await findUsageReceiptAddress(license, before.data.serial, before.data.usageCount);
  return { receipt, license, signature };
}

/**
 * Reviews `dataset` (rating 1 to 5; `text` is what `uri` points to, its sha256 goes on chain), or
 * replaces the wallet's earlier review of it.
 */
export async function submitReview(
  connection: MarketConnection,
  reviewer: MarketWallet,
  input: { dataset: Address; rating: number; text: string; uri: string },
): Promise<{ updated: boolean; signature: string }> {
  const license = await findLicenseAddress(input.dataset, reviewer.signer.address);
  const existing = await fetchReviewOfLicense(connection, license);
  const build = existing ? buildUpdateReview : buildSubmitReview;
  const { signature } = await connection.send(
    reviewer.signer,
    await build({ reviewer: reviewer.signer, dataset: input.dataset, rating: input.rating, textHash: sha256Utf8(input.text), uri: input.uri }),
  );
  return { updated: existing !== null, signature };
}
