// The `data-market` command line: global options, the command tree, and one place where failures
// become a single line and an exit code.
import { Command, CommanderError } from "commander";

import { CliContext, defaultGlobalOptions, type CliResources, type GlobalOptions } from "./context.js";
import { EXIT, describeFailure } from "./failure.js";
import type { CliStreams } from "./output.js";
import { collectValues } from "./parse.js";
import { registerDatasetCommands } from "./commands/dataset.js";
import { registerDeliveryCommands } from "./commands/delivery.js";
import { registerDisputeCommands } from "./commands/dispute.js";
import { registerIpfsCommands } from "./commands/ipfs.js";
import { registerLicenseCommands } from "./commands/license.js";
import { registerMarketCommands } from "./commands/market.js";
import { registerPayoutCommands } from "./commands/payouts.js";
import { registerProvenanceCommands } from "./commands/provenance.js";
import { registerReviewCommands } from "./commands/review.js";
import { registerUsageCommands } from "./commands/usage.js";
import { registerWalletCommands } from "./commands/wallet.js";

export interface CliHost extends CliResources {
  streams: CliStreams;
  env?: NodeJS.ProcessEnv;
}

/** Runs one command line (without the node and script arguments); resolves to the exit code. */
export async function runCli(argv: readonly string[], host: CliHost): Promise<number> {
  const defaults = defaultGlobalOptions(host.env ?? process.env);
  let context: CliContext | undefined;
  const program = new Command("data-market")
    .description("Buy and sell AI training data on Solana: encrypted on IPFS, licensed and paid on chain.")
    .option("-u, --url <url>", "RPC URL or localnet, devnet, mainnet-beta (env DATA_MARKET_URL)", defaults.url)
    .option("-k, --keypair <path>", "Solana CLI keypair file (env DATA_MARKET_KEYPAIR)", defaults.keypair)
    .option("--ipfs <dir|url>", "embedded IPFS repository directory, or a Kubo RPC URL (env DATA_MARKET_IPFS)", defaults.ipfs)
    .option(
      "--ipfs-listen <multiaddr>",
      "serve content from the embedded IPFS node on this address, e.g. /ip4/0.0.0.0/tcp/4001 (repeat; env DATA_MARKET_IPFS_LISTEN)",
      collectValues,
      defaults.ipfsListen,
    )
    .option(
      "--ipfs-peer <multiaddr>",
      "connect the embedded IPFS node to this peer, e.g. a dataset owner's (repeat; env DATA_MARKET_IPFS_PEERS)",
      collectValues,
      defaults.ipfsPeer,
    )
    .option(
      "--indexer <url>",
      "indexer API, e.g. http://127.0.0.1:8980: search, list and deliver ask it, checking its answers on chain (env DATA_MARKET_INDEXER)",
      defaults.indexer,
    )
    .option("--commitment <level>", "processed, confirmed or finalized: when a transaction counts as landed", defaults.commitment)
    .option("--priority-fee <micro-lamports>", "priority fee per compute unit (default: p75 of recent fees for the accounts written)")
    .option("--max-priority-fee <micro-lamports>", "cap on the priority fee chosen from recent fees (default 1000000)")
    .option("--compute-unit-limit <units>", "compute-unit limit (default: simulated consumption + 10% + 1000, at most 1400000)")
    .option("--json", "machine-readable output on stdout")
    .option("-v, --verbose", "show each transaction's compute budget and retries, and stack traces of unexpected errors")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => host.streams.stdout.write(text),
      writeErr: (text) => host.streams.stderr.write(text),
    });

  const getContext = () => {
    if (!context) {
      const options = program.opts<Partial<GlobalOptions>>();
      context = new CliContext(
        { ...defaults, ...options, json: options.json ?? false, verbose: options.verbose ?? false },
        host.streams,
        host,
      );
    }
    return context;
  };

  registerWalletCommands(program, getContext);
  registerMarketCommands(program, getContext);
  registerDatasetCommands(program, getContext);
  registerLicenseCommands(program, getContext);
  registerDeliveryCommands(program, getContext);
  registerUsageCommands(program, getContext);
  registerProvenanceCommands(program, getContext);
  registerReviewCommands(program, getContext);
  registerDisputeCommands(program, getContext);
  registerPayoutCommands(program, getContext);
  registerIpfsCommands(program, getContext);
  for (const command of program.commands) command.exitOverride();

  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; commander has already printed its message otherwise.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const failure = describeFailure(error);
    host.streams.stderr.write(`error: ${failure.message}\n`);
    if (failure.exitCode === EXIT.internal && (context?.options.verbose || program.opts()["verbose"])) {
      host.streams.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    }
    return failure.exitCode;
  } finally {
    await context?.close();
  }
}
