// license buy / renew / credits / list / show.
import type { Command } from "commander";

import {
  ClientError,
  PriceAboveMaxError,
  buyCredits,
  buyLicense,
  formatAmount,
  formatDuration,
  parseAmount,
  renewLicense,
} from "../../client/index.js";
import {
  fetchDataset,
  fetchLicense,
  findLicenseAddress,
  accountLists,
  isLicenseExpired,
} from "../../sdk/index.js";
import { parseAddress, type CliContext } from "../context.js";
import { MIN_SLOT_HELP, parseInteger, parseMinSlot } from "../parse.js";
import { isoTime } from "./common.js";

const STATE_NAMES = ["awaiting key", "delivered", "settled", "disputed", "refunded"];

export function registerLicenseCommands(program: Command, context: () => CliContext): void {
  const license = program.command("license").description("buy and manage licences");

  license
    .command("buy")
    .description("buy a licence (or credits of a metered dataset); pays into escrow")
    .argument("<dataset>")
    .requiredOption("--max-price <amount>", "the most you agree to pay in all")
    .option("--credits <n>", "credits to buy (metered datasets)")
    .option("--referrer <address>", "front-end that referred you")
    .action(async (text: string, options: { maxPrice: string; credits?: string; referrer?: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const { data } = await fetchDataset(ctx.connection, dataset);
      const mint = await ctx.mint(data.paymentMint);
      const maxPrice = parseAmount(options.maxPrice, mint.decimals);
      const result = await withPriceMessage(ctx, () =>
        buyLicense(ctx.connection, wallet, {
          dataset,
          maxPrice,
          credits: options.credits ? parseInteger("--credits", options.credits, 1, 1_000_000) : undefined,
          referrer: options.referrer ? parseAddress(options.referrer, "--referrer") : undefined,
        }),
      );
      ctx.output.result({ dataset, license: result.license, paid: result.total, signature: result.signature }, [
        `bought licence ${result.license} for ${formatAmount(result.total, mint.decimals)} (held in escrow)`,
        `  the owner has ${formatDuration(data.deliveryWindowSecs)} to deliver the key; then \`download ${dataset}\``,
      ]);
    });

  license
    .command("renew")
    .description("extend a settled, time-limited licence by one term")
    .argument("<dataset>")
    .requiredOption("--max-price <amount>")
    .action(async (text: string, options: { maxPrice: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const { data } = await fetchDataset(ctx.connection, dataset);
      const mint = await ctx.mint(data.paymentMint);
      const result = await withPriceMessage(ctx, () =>
        renewLicense(ctx.connection, wallet, { dataset, maxPrice: parseAmount(options.maxPrice, mint.decimals) }),
      );
      const renewed = await fetchLicense(ctx.connection, await findLicenseAddress(dataset, wallet.signer.address));
      ctx.output.result(
        { dataset, paid: result.total, expiresAt: renewed.data.expiresAt, signature: result.signature },
        `renewed for ${formatAmount(result.total, mint.decimals)}; valid until ${isoTime(renewed.data.expiresAt)}`,
      );
    });

  license
    .command("credits")
    .description("buy more credits for a settled, metered licence")
    .argument("<dataset>")
    .argument("<credits>")
    .requiredOption("--max-price <amount>")
    .action(async (text: string, creditsText: string, options: { maxPrice: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const dataset = parseAddress(text, "dataset");
      const { data } = await fetchDataset(ctx.connection, dataset);
      const mint = await ctx.mint(data.paymentMint);
      const credits = parseInteger("credits", creditsText, 1, 1_000_000);
      const result = await withPriceMessage(ctx, () =>
        buyCredits(ctx.connection, wallet, { dataset, credits, maxPrice: parseAmount(options.maxPrice, mint.decimals) }),
      );
      ctx.output.result(
        { dataset, credits, paid: result.total, signature: result.signature },
        `bought ${credits} credits for ${formatAmount(result.total, mint.decimals)}`,
      );
    });

  license
    .command("list")
    .description("your licences, or every licence of a dataset (--dataset)")
    .option("--dataset <dataset>")
    .option("--min-slot <slot>", MIN_SLOT_HELP)
    .action(async (options: { dataset?: string; minSlot?: string }) => {
      const ctx = context();
      const list = options.dataset
        ? accountLists.licensesByDataset(parseAddress(options.dataset, "--dataset"))
        : accountLists.licensesByBuyer((await ctx.wallet()).signer.address);
      const licenses = await ctx.listAccounts(list, parseMinSlot(options.minSlot));
      const now = await ctx.connection.now();
      const rows: string[] = [];
      const datasets = new Map<string, Awaited<ReturnType<typeof fetchDataset>>>();
      for (const { address, data } of licenses) {
        const dataset = datasets.get(data.dataset) ?? (await fetchDataset(ctx.connection, data.dataset));
        datasets.set(data.dataset, dataset);
        const paid = await ctx.amount(dataset.data.paymentMint, data.pricePaid);
        const expiry = data.expiresAt === 0n ? "perpetual" : isLicenseExpired(data, now) ? "EXPIRED" : `until ${isoTime(data.expiresAt)}`;
        rows.push(
          `${address}  ${dataset.data.title}  buyer ${data.buyer}  ${STATE_NAMES[data.state]}  paid ${paid}  ${expiry}` +
            (dataset.data.terms.metered ? `  credits ${data.credits - data.usageCount}/${data.credits}` : ""),
        );
      }
      ctx.output.result(
        licenses.map(({ address, data }) => ({ address, ...data, discriminator: undefined, state: STATE_NAMES[data.state] })),
        rows.length > 0 ? rows : ["no licences"],
      );
    });

  license
    .command("show")
    .description("your licence of a dataset (or --buyer's)")
    .argument("<dataset>")
    .option("--buyer <address>")
    .action(async (text: string, options: { buyer?: string }) => {
      const ctx = context();
      const dataset = parseAddress(text, "dataset");
      const buyer = options.buyer ? parseAddress(options.buyer, "--buyer") : (await ctx.wallet()).signer.address;
      const address = await findLicenseAddress(dataset, buyer);
      const { data } = await fetchLicense(ctx.connection, address);
      const { data: ds } = await fetchDataset(ctx.connection, dataset);
      const amount = (v: bigint) => ctx.amount(ds.paymentMint, v);
      ctx.output.result({ address, ...data, discriminator: undefined, state: STATE_NAMES[data.state] }, [
        `licence ${address} of ${ds.title}`,
        `  buyer        ${data.buyer}`,
        `  state        ${STATE_NAMES[data.state]}`,
        `  paid         ${await amount(data.pricePaid)} (protocol fee ${await amount(data.protocolFee)}, referral ${await amount(data.referralFee)}, refunded ${await amount(data.refundedAmount)})`,
        `  bought       ${isoTime(data.boughtAt)}; delivered ${data.deliveredAt === 0n ? "not yet" : isoTime(data.deliveredAt)}`,
        `  expires      ${data.expiresAt === 0n ? "never (perpetual)" : isoTime(data.expiresAt)}`,
        `  uses         ${data.usageCount}${ds.terms.metered ? ` of ${data.credits} credits` : ""}`,
      ]);
    });
}

/** Rewrites a price refusal with the amounts in the mint's units and the flag's name. */
async function withPriceMessage<T>(ctx: CliContext, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof PriceAboveMaxError) {
      const mint = await ctx.mint(error.paymentMint);
      throw new ClientError(
        "refused",
        `the price is ${formatAmount(error.price, mint.decimals)}, above your --max-price ${formatAmount(error.maxPrice, mint.decimals)}`,
        { cause: error },
      );
    }
    throw error;
  }
}
