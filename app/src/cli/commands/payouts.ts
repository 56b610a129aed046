// settle / claim / claim-referral / forfeit-referral / sweep / refund / close-license: moving escrowed
// funds out.
import type { Command } from "commander";

import { walletTokenBalance } from "../../client/index.js";
import {
  buildClaimReferralFee,
  buildClaimRevenue,
  buildCloseLicense,
  buildForfeitReferralFee,
  buildRefundLicense,
  buildSettleLicense,
  buildSweepProtocolFees,
  claimableBy,
  fetchDataset,
  fetchLicense,
} from "../../sdk/index.js";
import { parseAddress, type CliContext } from "../context.js";
import { sendWithWallet } from "./common.js";

export function registerPayoutCommands(program: Command, context: () => CliContext): void {
  program
    .command("settle")
    .description("release a licence's escrow to the revenue ledger once its dispute window has passed (anyone)")
    .argument("<license>")
    .action(async (text: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const license = parseAddress(text, "licence");
      const signature = await sendWithWallet(ctx, await buildSettleLicense(ctx.connection, { caller: wallet.signer, license }));
      ctx.output.result({ license, signature }, `licence ${license} settled`);
    });

  program
    .command("claim")
    .description("withdraw your share of a dataset's settled revenue")
    .argument("<dataset>")
    .action(async (text: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const { data } = await fetchDataset(ctx.connection, dataset);
      const owed = claimableBy(data, wallet.signer.address);
      const signature = await sendWithWallet(ctx, await buildClaimRevenue(ctx.connection, { recipient: wallet.signer, dataset }));
      const mint = await ctx.mint(data.paymentMint);
      const balance = await walletTokenBalance(ctx.connection, mint, wallet.signer.address);
      ctx.output.result(
        { dataset, claimed: owed, balance, signature },
        `claimed ${await ctx.amount(data.paymentMint, owed)}; your balance is ${await ctx.amount(data.paymentMint, balance)}`,
      );
    });

  program
    .command("claim-referral")
    .description("withdraw the referral fee of a settled licence you referred")
    .argument("<license>")
    .action(async (text: string) => {
      const ctx = context();
      const { wallet, license, data, paymentMint } = await readLicense(ctx, text);
      const signature = await sendWithWallet(ctx, await buildClaimReferralFee(ctx.connection, { referrer: wallet.signer, license }));
      ctx.output.result(
        { license, claimed: data.referralFee, signature },
        `claimed referral fee ${await ctx.amount(paymentMint, data.referralFee)}`,
      );
    });

  program
    .command("forfeit-referral")
    .description("hand a referral fee left unclaimed 90 days after settlement to the dataset's recipients (anyone)")
    .argument("<license>")
    .action(async (text: string) => {
      const ctx = context();
      const { wallet, license, data, paymentMint } = await readLicense(ctx, text);
      const signature = await sendWithWallet(ctx, await buildForfeitReferralFee(ctx.connection, { caller: wallet.signer, license }));
      ctx.output.result(
        { license, forfeited: data.referralFee, signature },
        `referral fee ${await ctx.amount(paymentMint, data.referralFee)} handed to the dataset's recipients`,
      );
    });

  program
    .command("sweep")
    .description("send a dataset's accrued protocol fees to the marketplace treasury (anyone)")
    .argument("<dataset>")
    .action(async (text: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const { data } = await fetchDataset(ctx.connection, dataset);
      const amount = data.ledger.protocolFeesOwed;
      const signature = await sendWithWallet(ctx, await buildSweepProtocolFees(ctx.connection, { caller: wallet.signer, dataset }));
      ctx.output.result({ dataset, swept: amount, signature }, `swept ${await ctx.amount(data.paymentMint, amount)} to the treasury`);
    });

  program
    .command("refund")
    .description("refund a licence whose key was not delivered in time (anyone; pays the buyer)")
    .argument("<license>")
    .action(async (text: string) => {
      const ctx = context();
      const { wallet, license, data, paymentMint } = await readLicense(ctx, text);
      const signature = await sendWithWallet(ctx, await buildRefundLicense(ctx.connection, { caller: wallet.signer, license }));
      ctx.output.result(
        { license, refunded: data.pricePaid, buyer: data.buyer, signature },
        `refunded ${await ctx.amount(paymentMint, data.pricePaid)} to ${data.buyer}`,
      );
    });

  program
    .command("close-license")
    .description("close your settled or refunded licence of a dataset (even a closed one): its rent comes back, its tokens are burned")
    .argument("<dataset>")
    .action(async (text: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const signature = await sendWithWallet(ctx, await buildCloseLicense({ buyer: wallet.signer, dataset }));
      ctx.output.result({ dataset, signature }, `licence of ${dataset} closed`);
    });
}

/** The wallet, and the licence named on the command line with its dataset's payment mint. */
async function readLicense(ctx: CliContext, text: string) {
  const wallet = await ctx.wallet();
  const license = parseAddress(text, "licence");
  const { data } = await fetchLicense(ctx.connection, license);
  const { data: dataset } = await fetchDataset(ctx.connection, data.dataset);
  return { wallet, license, data, paymentMint: dataset.paymentMint };
}
