// Amounts and terms for people, from what the SDK decodes.
import type { Address } from "@solana/kit";

import { formatAmount, formatDuration, type MintInfo } from "../../src/client/universal.js";
import { DatasetCategory, DatasetState, DisputeReason, LicenseState, UsagePurpose, type LicenseTerms } from "../../src/sdk/index.js";

export function shortAddress(address: string): string {
  return `${address.slice(0, 4)}…${address.slice(-4)}`;
}

/** "4.5 USDC" when the build names the mint, else "4.5 tokens of mint 7VJA…u3FF". */
export function tokenAmount(amount: bigint, mint: MintInfo | null, mintAddress: Address, symbols: Record<string, string>): string {
  const symbol = symbols[mintAddress];
  const unit = symbol ?? `tokens of mint ${shortAddress(mintAddress)}`;
  if (!mint) return `${amount} base units of ${symbol ?? `mint ${shortAddress(mintAddress)}`}`;
  return `${formatAmount(amount, mint.decimals)} ${unit}`;
}

/** floor(amount × bps / 10,000), as the program computes fees. */
export function bpsOf(amount: bigint, bps: number): bigint {
  return (amount * BigInt(bps)) / 10_000n;
}

export const CATEGORY_NAMES: Record<DatasetCategory, string> = {
  [DatasetCategory.Text]: "Text",
  [DatasetCategory.Image]: "Images",
  [DatasetCategory.Audio]: "Audio",
  [DatasetCategory.Video]: "Video",
  [DatasetCategory.Code]: "Code",
  [DatasetCategory.Tabular]: "Tables",
  [DatasetCategory.Multimodal]: "Multimodal",
  [DatasetCategory.Other]: "Other",
};

export const STATE_NAMES: Record<DatasetState, string> = {
  [DatasetState.Active]: "On sale",
  [DatasetState.OrderingPaused]: "Sales paused",
  [DatasetState.Unlisted]: "Unlisted",
  [DatasetState.Deprecated]: "Deprecated",
  [DatasetState.Retired]: "Retired",
  [DatasetState.Revoked]: "Revoked",
};

export const LICENSE_STATE_NAMES: Record<LicenseState, string> = {
  [LicenseState.AwaitingKey]: "Waiting for the key",
  [LicenseState.Delivered]: "Key delivered",
  [LicenseState.Settled]: "Settled",
  [LicenseState.Disputed]: "Disputed",
  [LicenseState.Refunded]: "Refunded",
};

/** The licence terms as sentences. */
export function termsInWords(terms: LicenseTerms): string[] {
  const allowed = (yes: boolean, what: string) => `${what}: ${yes ? "allowed" : "not allowed"}.`;
  return [
    terms.durationSecs === 0n ? "The licence never expires." : `The licence lasts ${formatDuration(terms.durationSecs)} from the key's delivery.`,
    terms.metered ? "Sold as credits: the price is per recorded use." : "Sold as one licence at the price shown.",
    terms.maxSupply === 0 ? "No limit on the number of licences." : `At most ${terms.maxSupply} licences outstanding at once.`,
    terms.transferable ? "The licence token can be transferred." : "The licence token cannot be transferred.",
    allowed(terms.aiTraining, "Training AI models"),
    allowed(terms.commercialUse, "Commercial use"),
    allowed(terms.derivativeModels, "Publishing models derived from the data"),
    terms.attributionRequired ? "Attribution is required." : "No attribution required.",
  ];
}

/** "2d 3h" until `target` (unix seconds), or null when it has passed. */
export function countdown(target: bigint, nowSecs: number): string | null {
  const left = Number(target) - Math.floor(nowSecs);
  return left > 0 ? formatDuration(left) : null;
}

export const PURPOSE_NAMES: Record<UsagePurpose, string> = {
  [UsagePurpose.Training]: "Training",
  [UsagePurpose.FineTuning]: "Fine-tuning",
  [UsagePurpose.Evaluation]: "Evaluation",
  [UsagePurpose.InferenceRag]: "Retrieval (RAG)",
  [UsagePurpose.Other]: "Other",
};

export const REASON_NAMES: Record<DisputeReason, string> = {
  [DisputeReason.HashMismatch]: "The data does not match its registered hash",
  [DisputeReason.KeyInvalid]: "The delivered key does not open the data",
  [DisputeReason.DataUnavailable]: "The data cannot be fetched",
  [DisputeReason.NotAsDescribed]: "The data is not what was described",
  [DisputeReason.Other]: "Other",
};

/** A unix time as "2026-12-03 17:05:09 UTC"; "never" for 0. */
export function dateTime(unixSeconds: bigint): string {
  return unixSeconds === 0n ? "never" : new Date(Number(unixSeconds) * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}
