// deliver (once, or --watch as a daemon) and download.
import { resolve } from "node:path";

import type { Command } from "commander";

import {
  ClientError,
  checkDeliveryCoverage,
  deliverPendingKeys,
  describeKeyCopy,
  downloadDataset,
  loadDeliveryGrants,
  parseDuration,
  answerPendingPreviews,
  watchDeliveries,
  type DeliveryEvent,
  type PreviewEvent,
} from "../../client/index.js";
import { HeliaContentStore } from "../../storage/index.js";
import { parseAddress, type CliContext } from "../context.js";
import { formatBytes } from "../output.js";
import { collectValues } from "../parse.js";

export function registerDeliveryCommands(program: Command, context: () => CliContext): void {
  program
    .command("deliver")
    .description(
      "seal and deliver the content key of every licence still waiting for it, and answer every open preview request, of your datasets and of those that name you delivery delegate",
    )
    .option("--watch", "keep running, delivering new purchases as they come (stop with Ctrl-C)")
    .option("--interval <duration>", "how often --watch looks for new purchases (default 5s; 1s with an indexer)")
    .option("--grant <cid>", "as a delivery delegate: a grant the owner gave you (`dataset delegate` prints its CID; repeat)", collectValues, [])
    .action(async (options: { watch?: boolean; interval?: string; grant: string[] }) => {
      const ctx = context();
      // With an indexer a pass is one request (plus a read of what it names), so it can run often.
      const indexer = ctx.indexer();
      const discovery = indexer ? ctx.discovery() : undefined;
      const interval = options.interval ?? (indexer ? "1s" : "5s");
      // An unreachable indexer is said once, and its return once; meanwhile passes look on chain.
      let indexerFailing = false;
      let failedThisPass = false;
      const onIndexerError = (error: unknown) => {
        if (!indexerFailing) {
          ctx.output.note(`${error instanceof Error ? error.message : String(error)}; looking on chain instead until it answers again`);
        }
        indexerFailing = true;
        failedThisPass = true;
      };
      const onPass = () => {
        if (indexerFailing && !failedThisPass) {
          ctx.output.note("the indexer answers again");
          indexerFailing = false;
        }
        failedThisPass = false;
      };
      const wallet = await ctx.wallet();
      const store = await ctx.store();
      const grants = await loadDeliveryGrants(store, options.grant, { timeoutMs: 30_000 });
      const onEvent = (event: DeliveryEvent) => {
        const human =
          event.kind === "delivered"
            ? `delivered licence ${event.license} to ${event.buyer}`
            : `${event.kind} licence ${event.license}: ${event.reason}`;
        ctx.output.event(event, human);
      };
      const onPreviewEvent = (event: PreviewEvent) => {
        const human =
          event.kind === "answered"
            ? `answered preview ${event.request} for ${event.buyer}: chunks ${event.chunks.join(", ")} at ${event.cid}`
            : event.kind === "late"
              ? `missed preview ${event.request}: its answer window has closed`
              : `failed preview ${event.request}: ${event.reason}`;
        ctx.output.event({ preview: true, ...event }, human);
      };

      // What this wallet can deliver, said before any pass; nothing at all is a refusal.
      const coverage = await checkDeliveryCoverage(ctx.connection, store, wallet, grants);
      for (const entry of coverage.datasets.filter((d) => d.role === "delegate")) {
        ctx.output.note(
          entry.copy
            ? `delivering for dataset ${entry.dataset} as its delivery delegate, with ${describeKeyCopy(entry.copy)}`
            : `cannot deliver for dataset ${entry.dataset}: ${entry.problem}`,
        );
      }
      for (const ignored of coverage.ignoredGrants) ctx.output.note(`ignoring grant ${ignored.cid}: ${ignored.reason}`);
      const usable = coverage.datasets.filter((d) => d.copy !== null).length;
      const unusable = coverage.datasets.length - usable;
      if (usable === 0 && (unusable > 0 || grants.length > 0)) {
        throw new ClientError(
          "refused",
          `${wallet.signer.address} holds no copy of the content key of any dataset it may deliver for: it owns none, and ` +
            (unusable > 0
              ? `holds no usable copy for the ${unusable} that name it delivery delegate (see the lines above)`
              : "no dataset names it delivery delegate (see the lines above)"),
        );
      }

      if (!options.watch) {
        const pass = await deliverPendingKeys(ctx.connection, store, wallet, onEvent, { grants, discovery, onIndexerError });
        const previews = await answerPendingPreviews(ctx.connection, store, wallet, { grants, onEvent: onPreviewEvent });
        if (!ctx.options.json) {
          ctx.output.result(
            null,
            `${pass.delivered} delivered, ${pass.missed} missed, ${pass.failed} failed` +
              (pass.refused ? `, ${pass.refused} refused` : "") +
              // the previews part only when there were any, so an owner without previews reads one count
              (previews.answered + previews.late + previews.failed + previews.waiting > 0
                ? `; previews: ${previews.answered} answered, ${previews.late} missed, ${previews.failed} failed` +
                  (previews.waiting ? `, ${previews.waiting} not drawn yet` : "")
                : ""),
          );
        }
        if (pass.refused > 0) {
          throw new ClientError("refused", `${pass.refused} licence(s) not delivered: this wallet holds no usable copy of their dataset's key`);
        }
        return;
      }
      const intervalMs = parseDuration(interval) * 1000 || 1000;
      ctx.output.note(
        `delivering for ${wallet.signer.address} on ${ctx.connection.label} every ${interval}` +
          `${indexer ? `, asking the indexer at ${indexer.url} for pending deliveries` : ""}; Ctrl-C stops`,
      );
      const serving = store instanceof HeliaContentStore ? store.listenAddresses() : [];
      for (const address of serving) ctx.output.note(`serving dataset content to buyers at ${address}`);
      await watchDeliveries(ctx.connection, store, wallet, {
        intervalMs,
        signal: ctx.signal,
        grants,
        discovery,
        onIndexerError,
        onPass,
        onEvent,
        previews: { store, onEvent: onPreviewEvent },
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
