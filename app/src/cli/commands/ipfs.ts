// ipfs serve: the embedded IPFS node (--ipfs) over HTTP on 127.0.0.1, as a trustless gateway for
// browsers and the indexer and as the Kubo RPC subset the CLI's own Kubo backend speaks.
import type { Command } from "commander";

import { ClientError } from "../../client/index.js";
import { HeliaContentStore, startGateway, type RunningGateway } from "../../storage/index.js";
import type { CliContext } from "../context.js";
import { collectValues, parseInteger } from "../parse.js";

/** The port `ipfs serve` listens on unless told otherwise (the local stack's is its RPC port + 82). */
export const DEFAULT_IPFS_SERVE_PORT = 8981;

export function registerIpfsCommands(program: Command, context: () => CliContext): void {
  const ipfs = program.command("ipfs").description("the embedded IPFS node");

  ipfs
    .command("serve")
    .description(
      "serve the embedded node (--ipfs) on 127.0.0.1: a trustless gateway at /ipfs/<cid> (raw blocks and CARs, for browsers " +
        "and the indexer) and the Kubo RPC subset at /api/v0 (other commands use it with --ipfs <url>); Ctrl-C stops",
    )
    .option("--port <port>", `TCP port (0: any free port)`, String(DEFAULT_IPFS_SERVE_PORT))
    .option(
      "--allow-origin <origin>",
      "a browser origin allowed to call the RPC, e.g. a dapp's http://localhost:5173 (repeat; the gateway allows any)",
      collectValues,
      [],
    )
    .option("--no-rpc", "serve the read-only gateway only")
    .action(async (options: { port: string; allowOrigin: string[]; rpc: boolean }) => {
      const ctx = context();
      if (/^https?:\/\//i.test(ctx.options.ipfs)) {
        throw new ClientError(
          "usage",
          `ipfs serve serves the embedded node, but --ipfs names a Kubo RPC API (${ctx.options.ipfs}), which has its own gateway`,
        );
      }
      const port = parseInteger("--port", options.port, 0, 65_535);
      for (const origin of options.allowOrigin) {
        if (origin !== "*" && !/^https?:\/\/[^/]+$/i.test(origin)) {
          throw new ClientError("usage", `--allow-origin must be an origin such as http://localhost:5173 (or *), got "${origin}"`);
        }
      }
      const store = await ctx.store();
      if (!(store instanceof HeliaContentStore)) throw new ClientError("usage", "ipfs serve needs the embedded IPFS node");
      let gateway: RunningGateway;
      try {
        gateway = await startGateway({ store, port, rpc: options.rpc, rpcAllowedOrigins: options.allowOrigin });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
          throw new ClientError("usage", `port ${port} on 127.0.0.1 is in use: choose another with --port`);
        }
        throw error;
      }
      try {
        const api = options.rpc ? gateway.url : null;
        ctx.output.result({ gateway: gateway.url, api, directory: ctx.options.ipfs }, [
          `serving the IPFS node in ${ctx.options.ipfs}`,
          `  gateway  ${gateway.url}/ipfs/<cid>  (trustless: ?format=raw for a block, ?format=car for a DAG; any origin)`,
          api === null
            ? "  rpc      off (--no-rpc)"
            : `  rpc      ${api}/api/v0  (Kubo RPC subset: add, cat, block/stat; other commands use it with --ipfs ${api})`,
          ...(api !== null && options.allowOrigin.length > 0 ? [`  browsers may call the rpc from ${options.allowOrigin.join(", ")}`] : []),
        ]);
        for (const address of store.listenAddresses()) ctx.output.note(`serving blocks to peers at ${address}`);
        ctx.output.note("Ctrl-C stops");
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) return resolve();
          ctx.signal.addEventListener("abort", () => resolve(), { once: true });
        });
      } finally {
        await gateway.close();
      }
      ctx.output.note("IPFS server stopped");
    });
}
