// market init / show / update / front-end / release-hash: the marketplace configuration and the
// operator's moderation.
import type { Command } from "commander";

import {
  buildInitializeMarketplace,
  buildRegisterFrontEnd,
  buildReleaseContentHash,
  buildRemoveFrontEnd,
  buildUpdateMarketplace,
  fetchFrontEnd,
  fetchMarketplace,
  findMarketplaceAddress,
} from "../../sdk/index.js";
import { ClientError, formatDuration, parseDuration } from "../../client/index.js";
import { DEFAULT_MIN_WINDOW_SECS, MIN_WINDOW_CAP_SECS, MIN_WINDOW_FLOOR_SECS } from "../../sdk/index.js";
import { parseAddress, type CliContext } from "../context.js";
import { parseInteger } from "../parse.js";
import { bpsPercent, sendWithWallet } from "./common.js";

export function registerMarketCommands(program: Command, context: () => CliContext): void {
  const market = program.command("market").description("the marketplace configuration");

  market
    .command("init")
    .description("create the marketplace (the program's upgrade authority only, once)")
    .requiredOption("--treasury <address>", "wallet receiving protocol fees")
    .option("--arbiter <address>", "wallet ruling disputes (default: this wallet)")
    .option("--fee-bps <bps>", "protocol fee in basis points (at most 1000)", "250")
    .option("--max-referral-bps <bps>", "highest referral fee datasets may offer (at most 2000)", "1000")
    .option("--min-delivery-window <duration>", "shortest delivery window a dataset may set (5s to 7d)", formatDuration(DEFAULT_MIN_WINDOW_SECS))
    .option("--min-dispute-window <duration>", "shortest dispute window a dataset may set (5s to 7d)", formatDuration(DEFAULT_MIN_WINDOW_SECS))
    .action(async (options: {
      treasury: string;
      arbiter?: string;
      feeBps: string;
      maxReferralBps: string;
      minDeliveryWindow: string;
      minDisputeWindow: string;
    }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const input = {
        authority: wallet.signer,
        treasury: parseAddress(options.treasury, "--treasury"),
        arbiter: options.arbiter ? parseAddress(options.arbiter, "--arbiter") : wallet.signer.address,
        protocolFeeBps: parseInteger("--fee-bps", options.feeBps, 0, 10_000),
        maxReferralFeeBps: parseInteger("--max-referral-bps", options.maxReferralBps, 0, 10_000),
        minDeliveryWindowSecs: parseWindowPolicy("--min-delivery-window", options.minDeliveryWindow),
        minDisputeWindowSecs: parseWindowPolicy("--min-dispute-window", options.minDisputeWindow),
      };
      const signature = await sendWithWallet(ctx, await buildInitializeMarketplace(input));
      const marketplace = await findMarketplaceAddress();
      ctx.output.result({ marketplace, signature, ...input, authority: wallet.signer.address }, [
        `marketplace ${marketplace} created`,
        `  protocol fee ${bpsPercent(input.protocolFeeBps)}, treasury ${input.treasury}, arbiter ${input.arbiter}`,
        `  minimum windows: delivery ${formatDuration(input.minDeliveryWindowSecs)}, dispute ${formatDuration(input.minDisputeWindowSecs)}`,
      ]);
    });

  market
    .command("show")
    .description("show the marketplace configuration")
    .action(async () => {
      const ctx = context();
      const { address, data } = await fetchMarketplace(ctx.connection);
      ctx.output.result({ address, ...data, discriminator: undefined }, [
        `marketplace   ${address}`,
        `authority     ${data.authority}`,
        `treasury      ${data.treasury}`,
        `arbiter       ${data.arbiter}`,
        `protocol fee  ${bpsPercent(data.protocolFeeBps)} (referral fees up to ${bpsPercent(data.maxReferralFeeBps)})`,
        `purchases     ${data.purchasesPaused ? "PAUSED" : "open"}`,
        `min windows   delivery ${formatDuration(data.minDeliveryWindowSecs)}, dispute ${formatDuration(data.minDisputeWindowSecs)} (for new datasets)`,
      ]);
    });

  market
    .command("update")
    .description("change settings (the marketplace authority only)")
    .option("--treasury <address>")
    .option("--arbiter <address>")
    .option("--fee-bps <bps>")
    .option("--max-referral-bps <bps>")
    .option("--pause", "stop new purchases and renewals")
    .option("--resume", "allow purchases again")
    .option("--min-delivery-window <duration>", "shortest delivery window new datasets may set (5s to 7d)")
    .option("--min-dispute-window <duration>", "shortest dispute window new datasets may set (5s to 7d)")
    .action(
      async (options: {
        treasury?: string;
        arbiter?: string;
        feeBps?: string;
        maxReferralBps?: string;
        pause?: boolean;
        resume?: boolean;
        minDeliveryWindow?: string;
        minDisputeWindow?: string;
      }) => {
        const ctx = context();
        const wallet = await ctx.wallet();
        const signature = await sendWithWallet(
          ctx,
          await buildUpdateMarketplace({
            authority: wallet.signer,
            treasury: options.treasury ? parseAddress(options.treasury, "--treasury") : undefined,
            arbiter: options.arbiter ? parseAddress(options.arbiter, "--arbiter") : undefined,
            protocolFeeBps: options.feeBps ? parseInteger("--fee-bps", options.feeBps, 0, 10_000) : undefined,
            maxReferralFeeBps: options.maxReferralBps
              ? parseInteger("--max-referral-bps", options.maxReferralBps, 0, 10_000)
              : undefined,
            purchasesPaused: options.pause ? true : options.resume ? false : undefined,
            minDeliveryWindowSecs: options.minDeliveryWindow
              ? parseWindowPolicy("--min-delivery-window", options.minDeliveryWindow)
              : undefined,
            minDisputeWindowSecs: options.minDisputeWindow
              ? parseWindowPolicy("--min-dispute-window", options.minDisputeWindow)
              : undefined,
          }),
        );
        ctx.output.result({ signature }, `marketplace updated (${signature})`);
      },
    );

  const frontEnd = market.command("front-end").description("front-ends that may refer purchases (the marketplace authority only)");
  frontEnd
    .command("add")
    .description("register a front-end wallet: purchases it refers pay it the dataset's referral fee")
    .argument("<wallet>")
    .action(async (text: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const frontEndWallet = parseAddress(text, "wallet");
      const signature = await sendWithWallet(ctx, await buildRegisterFrontEnd({ authority: wallet.signer, wallet: frontEndWallet }));
      ctx.output.result({ wallet: frontEndWallet, signature }, `${frontEndWallet} registered as a front-end`);
    });
  frontEnd
    .command("remove")
    .description("remove a front-end: no new referrals; fees it already earned stay claimable")
    .argument("<wallet>")
    .action(async (text: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const frontEndWallet = parseAddress(text, "wallet");
      if (!(await fetchFrontEnd(ctx.connection, frontEndWallet))) {
        throw new ClientError("not-found", `${frontEndWallet} is not a registered front-end`);
      }
      const signature = await sendWithWallet(ctx, await buildRemoveFrontEnd({ authority: wallet.signer, wallet: frontEndWallet }));
      ctx.output.result({ wallet: frontEndWallet, signature }, `${frontEndWallet} removed from the front-ends`);
    });

  market
    .command("release-hash")
    .description("let the rightful owner register the content of a dataset you revoked as squatted")
    .argument("<dataset>", "the revoked dataset")
    .requiredOption("--to <wallet>", "the owner who may now register the content")
    .action(async (text: string, options: { to: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const claimant = parseAddress(options.to, "--to");
      const signature = await sendWithWallet(
        ctx,
        await buildReleaseContentHash(ctx.connection, { authority: wallet.signer, dataset, claimant }),
      );
      ctx.output.result({ dataset, claimant, signature }, `the content of ${dataset} may now be registered by ${claimant}`);
    });
}

/** A minimum window the program accepts: MIN_WINDOW_FLOOR_SECS to MIN_WINDOW_CAP_SECS. */
function parseWindowPolicy(option: string, text: string): number {
  const secs = parseDuration(text);
  if (secs < MIN_WINDOW_FLOOR_SECS || secs > MIN_WINDOW_CAP_SECS) {
    throw new ClientError(
      "usage",
      `${option} must be between ${formatDuration(MIN_WINDOW_FLOOR_SECS)} and ${formatDuration(MIN_WINDOW_CAP_SECS)}`,
    );
  }
  return secs;
}
