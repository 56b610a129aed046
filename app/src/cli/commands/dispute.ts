// dispute open / rule / close / show.
import type { Command } from "commander";

import { ClientError } from "../../client/index.js";
import {
  buildCloseDispute,
  buildOpenDispute,
  buildRuleDispute,
  fetchDisputeOfLicense,
  fetchLicense,
  findLicenseAddress,
  ruling,
  type RulingArgs,
} from "../../sdk/index.js";
import { parseAddress, type CliContext } from "../context.js";
import { REASONS, nameOf, parseInteger, parseReason } from "../parse.js";
import { isoTime, sendWithWallet } from "./common.js";

export function registerDisputeCommands(program: Command, context: () => CliContext): void {
  const dispute = program.command("dispute").description("dispute a delivery, and rule disputes (arbiter)");

  dispute
    .command("open")
    .description("dispute your licence within the dispute window; freezes its escrow until the arbiter rules")
    .argument("<dataset>")
    .requiredOption("--reason <reason>", `one of ${Object.keys(REASONS).join(", ")}`)
    .requiredOption("--evidence <uri>", "where the arbiter finds your evidence")
    .action(async (text: string, options: { reason: string; evidence: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const signature = await sendWithWallet(
        ctx,
        await buildOpenDispute({
          buyer: wallet.signer,
          dataset,
          reason: parseReason(options.reason),
          evidenceUri: options.evidence,
        }),
      );
      const license = await findLicenseAddress(dataset, wallet.signer.address);
      ctx.output.result({ dataset, license, signature }, `dispute opened on licence ${license}`);
    });

  dispute
    .command("rule")
    .description("rule a dispute (the marketplace's arbiter only); final")
    .argument("<license>")
    .option("--refund", "everything back to the buyer")
    .option("--release", "everything to the owner (fees apply)")
    .option("--split <buyer-bps>", "this share back to the buyer, the rest released")
    .action(async (text: string, options: { refund?: boolean; release?: boolean; split?: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const license = parseAddress(text, "licence");
      const chosen = [options.refund, options.release, options.split !== undefined].filter(Boolean).length;
      if (chosen !== 1) throw new ClientError("usage", "choose exactly one of --refund, --release, --split <bps>");
      const decision: RulingArgs = options.refund
        ? ruling("Refund")
        : options.release
          ? ruling("Release")
          : ruling("Split", { buyerBps: parseInteger("--split", options.split!, 0, 10_000) });
      const signature = await sendWithWallet(ctx, await buildRuleDispute(ctx.connection, { arbiter: wallet.signer, license, ruling: decision }));
      ctx.output.result({ license, ruling: decision, signature }, `dispute on ${license} ruled: ${decision.__kind}`);
    });

  dispute
    .command("show")
    .description("the dispute of a licence")
    .argument("<license>")
    .action(async (text: string) => {
      const ctx = context();
      const license = parseAddress(text, "licence");
      const found = await fetchDisputeOfLicense(ctx.connection, license);
      if (!found) throw new ClientError("not-found", `licence ${license} has no dispute`);
      const { address, data } = found;
      ctx.output.result({ address, ...data, discriminator: undefined }, [
        `dispute ${address} on licence ${license}`,
        `  reason    ${nameOf(REASONS, data.reason)}; evidence ${data.evidenceUri}`,
        `  opened    ${isoTime(data.openedAt)}`,
        `  ruled     ${data.ruledAt === 0n ? "not yet" : isoTime(data.ruledAt)}`,
      ]);
    });

  dispute
    .command("close")
    .description("close your ruled dispute record, returning its rent")
    .argument("<dataset>")
    .action(async (text: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const license = await findLicenseAddress(dataset, wallet.signer.address);
      await fetchLicense(ctx.connection, license);
      const signature = await sendWithWallet(ctx, await buildCloseDispute({ buyer: wallet.signer, dataset }));
      ctx.output.result({ license, signature }, `dispute record of ${license} closed`);
    });
}
