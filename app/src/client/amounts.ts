// Token amounts as people write them ("12.5" USDC) and as the chain stores them (12_500_000 base
// units of a 6-decimal mint). Exact: decimal strings and bigints, never floating point.

export class AmountFormatError extends Error {
  override name = "AmountFormatError";
}

/** "12.5" with 6 decimals -> 12_500_000n. Rejects negative numbers, exponents and excess precision. */
export function parseAmount(text: string, decimals: number): bigint {
  const trimmed = text.trim();
  const match = /^(\d+)(?:\.(\d*))?$/.exec(trimmed);
  if (!match) throw new AmountFormatError(`"${text}" is not an amount (write e.g. 12 or 12.5)`);
  const whole = match[1]!;
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) {
    throw new AmountFormatError(`"${text}" has more than ${decimals} decimal places`);
  }
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

/** 12_500_000n with 6 decimals -> "12.5". */
export function formatAmount(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const value = negative ? -amount : amount;
  const scale = 10n ** BigInt(decimals);
  const whole = value / scale;
  const fraction = (value % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Lamports as SOL, e.g. "0.00314592 SOL". */
export function formatSol(lamports: bigint): string {
  return `${formatAmount(lamports, 9)} SOL`;
}

/** Durations like "1h", "30m", "7d", "90s" or a plain number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new AmountFormatError(`"${text}" is not a duration (write e.g. 90s, 30m, 1h, 7d)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? "s") as "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

/** Seconds for people: "1d", "2h 30m", "45s". */
export function formatDuration(seconds: number | bigint): string {
  let rest = Number(seconds);
  if (rest === 0) return "0s";
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(" ");
}
