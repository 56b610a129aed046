// Command-line values to program values, with one clear line when a value is wrong.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";

import { ClientError, DATASET_CATEGORIES, DISPUTE_REASONS, USAGE_PURPOSES, nameIn, runIdBytes, sha256Utf8 } from "../client/index.js";
import { fromHex, sha256Stream } from "../crypto/index.js";
import { DatasetCategory, DatasetState, DisputeReason, UsagePurpose } from "../sdk/index.js";

function enumParser<E extends Record<string, string | number>>(what: string, values: Record<string, E[keyof E]>) {
  return (text: string): E[keyof E] => {
    const value = values[text.toLowerCase()];
    if (value === undefined) {
      throw new ClientError("usage", `unknown ${what} "${text}" (one of: ${Object.keys(values).join(", ")})`);
    }
    return value;
  };
}

export const CATEGORIES = DATASET_CATEGORIES;
export const STATES = {
  active: DatasetState.Active,
  paused: DatasetState.OrderingPaused,
  unlisted: DatasetState.Unlisted,
  deprecated: DatasetState.Deprecated,
  retired: DatasetState.Retired,
  revoked: DatasetState.Revoked,
};
export const PURPOSES = USAGE_PURPOSES;
export const REASONS = DISPUTE_REASONS;

export const parseCategory = enumParser<typeof DatasetCategory>("category", CATEGORIES);
export const parseState = enumParser<typeof DatasetState>("state", STATES);
export const parsePurpose = enumParser<typeof UsagePurpose>("purpose", PURPOSES);
export const parseReason = enumParser<typeof DisputeReason>("dispute reason", REASONS);

/** Commander's accumulator for a repeatable option. */
export const collectValues = (value: string, previous: string[]): string[] => [...previous, value];

/** The name of an enum value in one of the tables above. */
export const nameOf = nameIn;

export function parseInteger(what: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim())) throw new ClientError("usage", `${what} must be a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new ClientError("usage", `${what} must be between ${min} and ${max}`);
  return value;
}

/** `--min-slot`: with an indexer, the slot its answer must include (a client seeing its own write). */
export function parseMinSlot(text: string | undefined): bigint | undefined {
  return text === undefined ? undefined : BigInt(parseInteger("--min-slot", text, 0, Number.MAX_SAFE_INTEGER));
}

export const MIN_SLOT_HELP = "with an indexer: wait until it has indexed this slot";

/**
 * A model hash: 64 hex characters, or the path of the model file (its sha256 is computed by
 * streaming it).
 */
export async function parseModelHash(text: string): Promise<Uint8Array> {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return fromHex(text);
  const info = await stat(text).catch(() => null);
  if (!info?.isFile()) {
    throw new ClientError("usage", `--model "${text}" is neither a 64-character hex sha256 nor a model file`);
  }
  return sha256Stream(createReadStream(text));
}

/** A run id: up to 32 bytes of text, zero-padded (or a 64-char hex value). */
export function parseRunId(text: string | undefined): Uint8Array {
  return runIdBytes(text, "--run-id");
}

export const sha256Text = sha256Utf8;
