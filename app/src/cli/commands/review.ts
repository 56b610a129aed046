// review: rate a dataset you hold a licence for (again to change your review).
import type { Command } from "commander";

import {
  buildCloseReview,
  fetchReviewOfLicense,
  findLicenseAddress,
  accountLists,
} from "../../sdk/index.js";
import { ClientError, metadataUri, submitReview } from "../../client/index.js";
import { toHex } from "../../crypto/index.js";
import { parseAddress, type CliContext } from "../context.js";
import { MIN_SLOT_HELP, parseInteger, parseMinSlot } from "../parse.js";
import { isoTime, sendWithWallet } from "./common.js";

export function registerReviewCommands(program: Command, context: () => CliContext): void {
  const review = program.command("review").description("rate datasets");

  review
    .command("submit")
    .description("rate a dataset you licensed, 1 to 5 (run again to update your review)")
    .argument("<dataset>")
    .requiredOption("--rating <1-5>")
    .option("--text <text>", "your review: added to IPFS, its sha256 and ipfs:// URI go on chain")
    .option("--uri <uri>", "where you published the review text yourself (instead of --text)")
    .action(async (text: string, options: { rating: string; text?: string; uri?: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const rating = parseInteger("--rating", options.rating, 1, 5);
      if ((options.text === undefined) === (options.uri === undefined)) {
        throw new ClientError("usage", "give the review as --text, or as --uri where you published it");
      }
      const uri = options.uri ?? metadataUri(await (await ctx.store()).addFile([new TextEncoder().encode(options.text)]));
      const { updated, signature } = await submitReview(ctx.connection, wallet, { dataset, rating, text: options.text ?? options.uri!, uri });
      ctx.output.result(
        { dataset, rating, updated, signature },
        `${updated ? "updated your review" : "reviewed"} ${dataset}: ${"★".repeat(rating)}${"☆".repeat(5 - rating)}`,
      );
    });

  review
    .command("withdraw")
    .description("withdraw your review of a dataset (its rent comes back, its rating leaves the average)")
    .argument("<dataset>")
    .action(async (text: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const license = await findLicenseAddress(dataset, wallet.signer.address);
      if (!(await fetchReviewOfLicense(ctx.connection, license))) {
        throw new ClientError("not-found", `you have no review of ${dataset}`);
      }
      const signature = await sendWithWallet(ctx, await buildCloseReview({ reviewer: wallet.signer, dataset }));
      ctx.output.result({ dataset, signature }, `review of ${dataset} withdrawn`);
    });

  review
    .command("list")
    .description("reviews of a dataset")
    .argument("<dataset>")
    .option("--min-slot <slot>", MIN_SLOT_HELP)
    .action(async (text: string, options: { minSlot?: string }) => {
      const ctx = context();
      const dataset = parseAddress(text, "dataset");
      const reviews = await ctx.listAccounts(accountLists.reviewsByDataset(dataset), parseMinSlot(options.minSlot));
      ctx.output.result(
        reviews.map(({ address, data }) => ({ address, ...data, discriminator: undefined })),
        reviews.length > 0
          ? reviews.map(
              ({ data }) =>
                `${"★".repeat(data.rating)}${"☆".repeat(5 - data.rating)}  ${data.reviewer}  ${isoTime(data.updatedAt)}  ` +
                `${data.uri || "(no text uri)"}  text sha256 ${toHex(new Uint8Array(data.textHash)).slice(0, 16)}…`,
            )
          : ["no reviews"],
      );
    });
}
