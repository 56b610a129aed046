// deliver (once, or --watch as a daemon) and download.
import { resolve } from "node:path";

import type { Command } from "commander";

import { deliverPendingKeys, downloadDataset, parseDuration, watchDeliveries, type DeliveryEvent } from "../../client/index.js";
import { HeliaContentStore } from "../../storage/index.js";
import { parseAddress, type CliContext } from "../context.js";
import { formatBytes } from "../output.js";

export function registerDeliveryCommands(program: Command, context: () => CliContext): void {
  program
    .command("deliver")
    .description("seal and deliver the content key of every licence of your datasets still waiting for it")
    .option("--watch", "keep running, delivering new purchases as they come (stop with Ctrl-C)")
    .option("--interval <duration>", "how often --watch looks for new purchases", "5s")
    .action(async (options: { watch?: boolean; interval: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const store = await ctx.store();
      const onEvent = (event: DeliveryEvent) => {
        const human =
          event.kind === "delivered"
            ? `delivered licence ${event.license} to ${event.buyer}`
            : `${event.kind} licence ${event.license}: ${event.reason}`;
        ctx.output.event(event, human);
      };
      if (!options.watch) {
        const pass = await deliverPendingKeys(ctx.connection, store, wallet, onEvent);
        if (!ctx.options.json) {
          ctx.output.result(null, `${pass.delivered} delivered, ${pass.missed} missed, ${pass.failed} failed`);
        }
        return;
      }
      const intervalMs = parseDuration(options.interval) * 1000 || 1000;
      ctx.output.note(`delivering for ${wallet.signer.address} on ${ctx.connection.label} every ${options.interval}; Ctrl-C stops`);
      const serving = store instanceof HeliaContentStore ? store.listenAddresses() : [];
      for (const address of serving) ctx.output.note(`serving dataset content to buyers at ${address}`);
      await watchDeliveries(ctx.connection, store, wallet, {
        intervalMs,
        signal: ctx.signal,
        onEvent,
        onPassError: (error) => ctx.output.note(`delivery pass failed, retrying: ${error instanceof Error ? error.message : String(error)}`),
      });
      ctx.output.note("delivery daemon stopped");
    });

  program
    .command("download")
    .description("fetch, decrypt and verify a dataset you hold a licence for")
    .argument("<dataset>")
    .requiredOption("-o, --output <file>", "where to write the plaintext (appears only once verified)")
    .option("--timeout <duration>", "give up when IPFS content cannot be found for this long", "60s")
    .action(async (text: string, options: { output: string; timeout: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const result = await downloadDataset(ctx.connection, await ctx.store(), wallet, {
        dataset: parseAddress(text, "dataset"),
        output: resolve(options.output),
        onProgress: ctx.output.progress(),
        timeoutMs: parseDuration(options.timeout) * 1000,
        signal: ctx.signal,
      });
      ctx.output.result(result, [
        `downloaded ${formatBytes(result.plaintextBytes)} to ${result.output}`,
        `  sha256 ${result.sha256} matches the on-chain content hash`,
      ]);
    });
}
