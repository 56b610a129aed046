// Shared bits of the command handlers.
import type { Instruction } from "@solana/kit";

import type { CliContext } from "../context.js";

/** Sends the instructions signed by the CLI's wallet; returns the signature. */
export async function sendWithWallet(ctx: CliContext, instructions: readonly Instruction[]): Promise<string> {
  const wallet = await ctx.wallet();
  const { signature } = await ctx.connection.send(wallet.signer, instructions);
  return signature;
}

export function isoTime(unixSeconds: bigint): string {
  return unixSeconds === 0n ? "never" : new Date(Number(unixSeconds) * 1000).toISOString().replace(".000Z", "Z");
}

export function bpsPercent(bps: number): string {
  return `${(bps / 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}
