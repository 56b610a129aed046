// usage record / list / reclaim: on-chain receipts of what a licence was used for.
import type { Command } from "commander";

import { toHex } from "../../crypto/index.js";
import {
  buildCloseUsageReceipts,
  findUsageReceipts,
  queries,
  accountLists,
  type AccountList,
} from "../../sdk/index.js";
import { ClientError, recordUsage } from "../../client/index.js";
import { parseAddress, type CliContext } from "../context.js";
import { MIN_SLOT_HELP, PURPOSES, nameOf, parseMinSlot, parseModelHash, parsePurpose, parseRunId } from "../parse.js";
import { isoTime, sendWithWallet } from "./common.js";

/** Receipts closed per transaction (each close names three accounts). */
const RECEIPTS_PER_TRANSACTION = 8;

export function registerUsageCommands(program: Command, context: () => CliContext): void {
  const usage = program.command("usage").description("record and list uses of licensed data");

  usage
    .command("record")
    .description("record one use of a dataset you hold a licence for (burns a credit if metered)")
    .argument("<dataset>")
    .requiredOption("--model <sha256|file>", "the model trained or evaluated: its sha256, or the file to hash")
    .option("--purpose <purpose>", `one of ${Object.keys(PURPOSES).join(", ")}`, "training")
    .option("--run-id <id>", "your run identifier (at most 32 bytes)")
    .action(async (text: string, options: { model: string; purpose: string; runId?: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const purpose = parsePurpose(options.purpose);
      const runId = parseRunId(options.runId);
      const modelHash = await parseModelHash(options.model);
      const { receipt, license, signature } = await recordUsage(ctx.connection, wallet, { dataset, modelHash, purpose, runId });
      ctx.output.result(
        { receipt, license, dataset, modelHash: toHex(modelHash), purpose: options.purpose, signature },
        `recorded ${options.purpose} use of ${dataset} by model ${toHex(modelHash)} (receipt ${receipt})`,
      );
    });

  usage
    .command("reclaim")
    .description("close your receipts of a licence that has expired, been refunded or closed, returning their rent")
    .argument("<license>")
    .action(async (text: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const license = parseAddress(text, "licence");
      const mine = (await findUsageReceipts(ctx.connection, queries.receiptsByLicense(license))).filter(
        ({ data }) => data.holder === wallet.signer.address,
      );
      if (mine.length === 0) throw new ClientError("not-found", `you have no receipts of licence ${license}`);
      const signatures: string[] = [];
      for (let start = 0; start < mine.length; start += RECEIPTS_PER_TRANSACTION) {
        const batch = mine.slice(start, start + RECEIPTS_PER_TRANSACTION).map(({ address }) => address);
        signatures.push(
          await sendWithWallet(ctx, await buildCloseUsageReceipts({ holder: wallet.signer, license, receipts: batch })),
        );
        ctx.output.note(`closed ${Math.min(start + RECEIPTS_PER_TRANSACTION, mine.length)} of ${mine.length} receipts`);
      }
      const lamports = mine.reduce((sum, { lamports }) => sum + BigInt(lamports), 0n);
      ctx.output.result(
        { license, closed: mine.length, lamports, signatures },
        `closed ${mine.length} receipts of ${license}; ${lamports} lamports of rent back`,
      );
    });

  usage
    .command("list")
    .description("usage receipts by dataset, licence or model")
    .option("--dataset <dataset>")
    .option("--license <license>")
    .option("--model <sha256|file>", "every use recorded for this model (its provenance)")
    .option("--min-slot <slot>", MIN_SLOT_HELP)
    .action(async (options: { dataset?: string; license?: string; model?: string; minSlot?: string }) => {
      const ctx = context();
      let list: AccountList<"UsageReceipt">;
      if (options.model) list = accountLists.receiptsByModelHash(await parseModelHash(options.model));
      else if (options.license) list = accountLists.receiptsByLicense(parseAddress(options.license, "--license"));
      else if (options.dataset) list = accountLists.receiptsByDataset(parseAddress(options.dataset, "--dataset"));
      else throw new ClientError("usage", "give --dataset, --license or --model");
      const receipts = await ctx.listAccounts(list, parseMinSlot(options.minSlot));
      receipts.sort((a, b) => Number(a.data.recordedAt - b.data.recordedAt));
      ctx.output.result(
        receipts.map(({ address, data }) => ({ address, ...data, discriminator: undefined, purpose: nameOf(PURPOSES, data.purpose) })),
        receipts.length > 0
          ? receipts.map(
              ({ address, data }) =>
                `${address}  ${isoTime(data.recordedAt)}  ${nameOf(PURPOSES, data.purpose)}  dataset ${data.dataset}  model ${toHex(new Uint8Array(data.modelHash))}`,
            )
          : ["no usage recorded"],
      );
    });
}
