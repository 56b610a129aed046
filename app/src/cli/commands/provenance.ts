// provenance: the bill of data behind a model, exported signed and verified against the chain.
import { readFile, rename, writeFile } from "node:fs/promises";

import type { Address } from "@solana/kit";
import type { Command } from "commander";

import {
  ClientError,
  buildBillOfData,
  formatAmount,
  parseBillOfData,
  renderBillMarkdown,
  signBillOfData,
  verifyBillOfData,
  type BillProgress,
} from "../../client/index.js";
import type { CliContext } from "../context.js";
import { parseModelHash } from "../parse.js";

/** Notes progress on stderr every `every` items and at the end. */
function noteEvery(ctx: CliContext, every: number): BillProgress {
  return (done, total, what) => {
    if (done === total || done % every === 0) ctx.output.note(`read ${done} of ${total} ${what}`);
  };
}

/** Writes through a temporary file, so a reader never sees half a document. */
async function writeWhole(path: string, text: string): Promise<void> {
  const temporary = `${path}.partial`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

export function registerProvenanceCommands(program: Command, context: () => CliContext): void {
  const provenance = program.command("provenance").description("the bill of data behind a model: export it signed, verify one");

  provenance
    .command("export")
    .description("write every licensed dataset, licence and recorded use behind a model, signed by your wallet")
    .requiredOption("--model <sha256|file>", "the model: its sha256, or the file to hash")
    .option("-o, --output <file>", "where to write the JSON document (default bill-of-data-<model>.json)")
    .option("--markdown <file>", "where to write the same for people (default: the output with .md)")
    .action(async (options: { model: string; output?: string; markdown?: string }) => {
      const ctx = context();
      const modelHash = await parseModelHash(options.model);
      const wallet = await ctx.wallet();
      const output = options.output ?? `bill-of-data-${Buffer.from(modelHash).toString("hex").slice(0, 16)}.json`;
      const markdown = options.markdown ?? output.replace(/\.json$/i, "") + ".md";
      if (markdown === output) throw new ClientError("usage", "--markdown must differ from --output");
      ctx.output.note("reading the receipts of the model");
      const bill = await buildBillOfData({
        connection: ctx.connection,
        modelHash,
        signer: wallet.signer.address,
        listReceipts: (list) => ctx.listAccounts(list),
        onProgress: noteEvery(ctx, 50),
      });
      if (bill.uses.length === 0) {
        throw new ClientError("not-found", `no use of a licensed dataset is recorded on chain for model ${bill.model.sha256}`);
      }
      const foreign = bill.uses.filter((u) => u.holder !== wallet.signer.address);
      if (foreign.length > 0) {
        throw new ClientError(
          "refused",
          `${foreign.length} of the model's ${bill.uses.length} recorded uses were recorded by another wallet (${foreign[0]!.holder}): only the wallet that recorded them can sign their bill of data`,
        );
      }
      const signed = await signBillOfData(bill, wallet);
      const decimals = new Map<Address, number>();
      for (const licence of signed.licences) decimals.set(licence.paymentMint, (await ctx.mint(licence.paymentMint)).decimals);
      await writeWhole(output, `${JSON.stringify(signed, null, 2)}\n`);
      await writeWhole(markdown, renderBillMarkdown(signed, (mint, amount) => `${formatAmount(amount, decimals.get(mint) ?? 0)}`));
      ctx.output.result(
        { output, markdown, model: signed.model.sha256, datasets: signed.datasets.length, licences: signed.licences.length, uses: signed.uses.length, signer: signed.signer },
        [
          `wrote ${output} and ${markdown}: ${signed.uses.length} uses of ${signed.datasets.length} datasets under ${signed.licences.length} licences, signed by ${signed.signer}`,
        ],
      );
    });

  provenance
    .command("verify")
    .description("check every claim of a bill of data against the chain and its signature")
    .argument("<file>", "the JSON document `provenance export` wrote")
    .action(async (file: string) => {
      const ctx = context();
      const text = await readFile(file, "utf8").catch(() => {
        throw new ClientError("not-found", `cannot read ${file}`);
      });
      const bill = parseBillOfData(text);
      if (!bill) throw new ClientError("usage", `${file} is not a bill of data (format data-market/bill-of-data, version 1)`);
      const started = performance.now();
      const result = await verifyBillOfData({
        connection: ctx.connection,
        bill,
        listReceipts: (list) => ctx.listAccounts(list),
        onProgress: noteEvery(ctx, 50),
      });
      const milliseconds = Math.round(performance.now() - started);
      for (const failure of result.failures) ctx.output.note(`fails: ${failure.claim}: ${failure.problem}`);
      if (!result.ok) {
        throw new ClientError(
          "verification",
          `${result.failures.length} of ${result.checks.length} claims fail, first: ${result.failures[0]!.claim}: ${result.failures[0]!.problem}`,
        );
      }
      ctx.output.result(
        { file, model: bill.model.sha256, signer: bill.signer, claims: result.checks.length, milliseconds },
        `verified ${file}: all ${result.checks.length} claims hold on chain (model ${bill.model.sha256}, signed by ${bill.signer}; ${milliseconds} ms)`,
      );
    });
}
