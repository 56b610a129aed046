// dataset publish / list / search / show / update / delegate / state / allow / disallow / revoke / close.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

import type { Account, Address } from "@solana/kit";
import type { Command } from "commander";

import {
  ClientError,
  describeMetadataGrants,
  formatAmount,
  formatDuration,
  issueDeliveryGrant,
  licenseTerms,
  parseAmount,
  parseDuration,
  enablePreviews,
  fetchVerifiedPreview,
  publishDataset,
  readDelegateCard,
  requestPreview,
  setPreviewLimits,
  waitForPreview,
  type PreviewLimits,
  readMetadata,
  removeDeliveryDelegate,
  setDeliveryDelegate,
  type IssuedGrant,
} from "../../client/index.js";
import {
  DATASET_SORTS,
  DEFAULT_ADDRESS,
  DEFAULT_PAGE_LIMIT,
  DatasetState,
  buildAddToAllowList,
  buildCloseDataset,
  buildRemoveFromAllowList,
  buildRevokeDataset,
  buildSetDatasetState,
  buildUpdateDataset,
  datasetAverageRating,
  datasetFreeRating,
  datasetRecipients,
  datasetTags,
  chainQueryPlan,
  fetchDataset,
  fetchPreviewPolicy,
  indexerSearchParams,
  textQueryTerms,
  type Dataset,
  type DatasetQuery,
  type DatasetSort,
  type DatasetStateFilter,
  type DroppedItem,
  type IndexedDataset,
  type IndexerClient,
  type PageRequest,
} from "../../sdk/index.js";
import { toHex } from "../../crypto/index.js";
import { parseAddress, type CliContext } from "../context.js";
import { formatBytes } from "../output.js";
import {
  CATEGORIES,
  PURPOSES,
  collectValues,
  STATES,
  nameOf,
  parseCategory,
  parseInteger,
  parseMinSlot,
  parseState,
  MIN_SLOT_HELP,
} from "../parse.js";
import { bpsPercent, isoTime, sendWithWallet } from "./common.js";

interface PublishOptions {
  title: string;
  description?: string;
  image?: string;
  price: string;
  mint: string;
  category: string;
  tag: string[];
  duration: string;
  maxSupply: string;
  metered?: boolean;
  transferable?: boolean;
  referralBps: string;
  recipient: string[];
  deliveryWindow: string;
  disputeWindow: string;
  allowList?: boolean;
  previous?: string;
  delegate?: string;
  commercial: boolean;
  derivatives: boolean;
  attribution?: boolean;
  preview?: string;
  previewsPerPeriod: string;
  previewPeriod: string;
}

export function registerDatasetCommands(program: Command, context: () => CliContext): void {
  const dataset = program.command("dataset").description("register, find and manage datasets");
  registerPreviewCommands(dataset, context);

  dataset
    .command("publish")
    .description("encrypt a file, add it to IPFS and register it for sale, in one go")
    .argument("<file>", "the dataset file")
    .requiredOption("--title <title>", "shown to buyers and on the licence token (at most 64 bytes)")
    .requiredOption("--price <amount>", "price of a licence (or of one credit with --metered), e.g. 10 or 2.5")
    .requiredOption("--mint <address>", "payment mint (e.g. the cluster's USDC)")
    .option("--description <text>", "longer description (in the metadata on IPFS)")
    .option("--image <uri>", "image wallets show for the licence token (in the metadata)")
    .option("--category <category>", `one of ${Object.keys(CATEGORIES).join(", ")}`, "other")
    .option("--tag <tag>", "a tag to be found by (repeat, at most 5)", collectValues, [])
    .option("--duration <duration>", "licence validity, e.g. 30d; 0 = perpetual", "0")
    .option("--max-supply <n>", "licences outstanding at once; 0 = unlimited", "0")
    .option("--metered", "sell credits, one per recorded use, at --price each")
    .option("--transferable", "licence tokens may change hands")
    .option("--referral-bps <bps>", "share paid to the front-end that referred a sale", "0")
    .option("--recipient <address:bps>", "revenue share (repeat; default: all to you)", collectValues, [])
    .option("--delivery-window <duration>", "time to deliver the key before the buyer may claim a refund", "1d")
    .option("--dispute-window <duration>", "time after delivery the buyer may dispute", "1d")
    .option("--allow-list", "only allow-listed buyers may purchase")
    .option("--previous <dataset>", "your dataset this one is a new version of")
    .option("--delegate <card>", "name a delivery delegate: its card (`wallet card`); the key is sealed to it too, so it delivers while you are offline")
    .option("--no-commercial", "the licence excludes commercial use")
    .option("--no-derivatives", "the licence excludes derivative models")
    .option("--attribution", "buyers must attribute the dataset")
    .option("--preview <chunks>", "offer verifiable random previews revealing this many 1 MiB chunks each (at most 8, one in eight)")
    .option("--previews-per-period <n>", "with --preview: previews answered per period, across all buyers", "10")
    .option("--preview-period <duration>", "with --preview: the period the limit counts over", "1h")
    .action(async (file: string, options: PublishOptions) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const paymentMint = parseAddress(options.mint, "--mint");
      const mint = await ctx.mint(paymentMint);
      if (mint.freezable) {
        ctx.output.note(
          `warning: ${paymentMint} has a freeze authority: its issuer could freeze this dataset's escrow and hold up payouts and refunds`,
        );
      }
      const delegate = options.delegate === undefined ? undefined : readDelegateCard(options.delegate);
      const recipients = options.recipient.map((text) => {
        const [wallet, bps] = text.split(":");
        if (!wallet || !bps) throw new ClientError("usage", `--recipient "${text}" must be <address>:<bps>`);
        return { wallet: parseAddress(wallet, "--recipient"), bps: parseInteger("--recipient bps", bps, 1, 10_000) };
      });
      const store = await ctx.store();
      const result = await publishDataset(ctx.connection, store, wallet, {
        file,
        title: options.title,
        description: options.description,
        image: options.image,
        category: parseCategory(options.category),
        tags: options.tag,
        price: parseAmount(options.price, mint.decimals),
        paymentMint,
        terms: licenseTerms({
          durationSecs: parseDuration(options.duration),
          maxSupply: parseInteger("--max-supply", options.maxSupply, 0, 2 ** 32 - 1),
          metered: options.metered ?? false,
          transferable: options.transferable ?? false,
          commercialUse: options.commercial,
          derivativeModels: options.derivatives,
          attributionRequired: options.attribution ?? false,
        }),
        referralFeeBps: parseInteger("--referral-bps", options.referralBps, 0, 10_000),
        recipients: recipients.length > 0 ? recipients : undefined,
        deliveryWindowSecs: parseDuration(options.deliveryWindow),
        disputeWindowSecs: parseDuration(options.disputeWindow),
        allowListEnabled: options.allowList ?? false,
        previousVersion: options.previous ? parseAddress(options.previous, "--previous") : undefined,
        delegate,
        preview: options.preview === undefined ? undefined : previewLimits(options.preview, options.previewsPerPeriod, options.previewPeriod),
        onProgress: ctx.output.progress(),
        signal: ctx.signal,
      });
      ctx.output.result(result, [
        `published dataset ${result.dataset}`,
        `  content sha256  ${result.contentHash} (${formatBytes(result.plaintextBytes)})`,
        `  ciphertext      ${result.ciphertextCid}`,
        `  metadata        ${result.metadataUri}`,
        `  price           ${options.price} per ${options.metered ? "credit" : "licence"}`,
        ...(result.delegate ? [`  delegate        ${result.delegate} (its copy of the key is in the metadata)`] : []),
        ...(result.previewSignature
          ? [`  previews        ${options.preview} of ${result.chunkCount} chunks each, chunk tree root ${toHex(result.chunkTreeRoot)}`]
          : []),
      ]);
    });

  const findOptions = (command: Command) =>
    command
      .option("--category <category>", `one of ${Object.keys(CATEGORIES).join(", ")}`)
      .option("--tag <tag>", "carrying this tag, in any case (repeat: every one)", collectValues, [])
      .option("--mint <address>", "paid in this mint")
      .option("--min-price <amount>", "at least this price (in --mint's units)")
      .option("--max-price <amount>", "at most this price (in --mint's units)")
      .option("--sort <order>", `${DATASET_SORTS.join(", ")} (default: relevance for words, else newest)`)
      .option("--limit <n>", "results per page, 1 to 100", String(DEFAULT_PAGE_LIMIT))
      .option("--cursor <cursor>", "the next page, as the previous one printed it")
      .option("--all", "every page")
      .option("--no-verify", "with an indexer: show its answer as it is, without checking it on chain")
      .option("--min-slot <slot>", MIN_SLOT_HELP);

  findOptions(
    dataset
      .command("list")
      .description("list datasets (the listed ones, or filtered; an owner's in every state)")
      .option("--owner <address>", "datasets of this owner")
      .option("--mine", "your datasets")
      .option("--state <state>", `one of ${Object.keys(STATES).join(", ")}, listed (all but unlisted and revoked) or any`),
  ).action(async (options: FindOptions & { owner?: string; mine?: boolean; state?: string }) => {
    const ctx = context();
    const owner = options.mine
      ? (await ctx.wallet()).signer.address
      : options.owner
        ? parseAddress(options.owner, "--owner")
        : undefined;
    const state = options.state === undefined ? (owner ? "any" : "listed") : parseStateFilter(options.state);
    await findAndPrint(ctx, { ...(await findQuery(ctx, options)), owner, state }, options);
  });

  findOptions(
    dataset
      .command("search")
      .description("find datasets whose title or tags contain the words (the last one may be a word's beginning)")
      .argument("<words...>")
      .option("--state <state>", `one of ${Object.keys(STATES).join(", ")} (default: the listed ones)`),
  ).action(async (words: string[], options: FindOptions & { state?: string }) => {
    const ctx = context();
    const query: DatasetQuery = {
      ...(await findQuery(ctx, options)),
      text: words.join(" "),
      state: options.state === undefined ? "listed" : parseStateFilter(options.state),
    };
    if (textQueryTerms(query.text!).length === 0) throw new ClientError("usage", "give at least one word of letters or digits");
    await findAndPrint(ctx, query, options);
  });

  dataset
    .command("show")
    .description("everything about one dataset")
    .argument("<dataset>")
    .action(async (text: string) => {
      const ctx = context();
      const { address, data } = await fetchDataset(ctx.connection, parseAddress(text, "dataset"));
      const store = await ctx.store();
      const metadata = await readMetadata(store, data.metadataUri, { timeoutMs: 10_000 }).catch(() => null);
      const price = await ctx.amount(data.paymentMint, data.price);
      const rating = datasetAverageRating(data);
      const freeRating = datasetFreeRating(data);
      const usage = data.usageByPurpose.map((n, i) => `${nameOf(PURPOSES, i)} ${n}`).join(", ");
      const grants = describeMetadataGrants({ address, data } as Account<Dataset>, metadata);
      const delegateLine =
        data.deliveryDelegate === DEFAULT_ADDRESS
          ? "none"
          : `${data.deliveryDelegate} (${grants.current ? "its copy of the key is in the metadata" : metadata ? "its copy of the key was given as a separate grant" : "metadata unavailable"})`;
      const publicMetadata = metadata && {
        ...metadata,
        ownerSealedKey: undefined,
        deliveryGrants: metadata.deliveryGrants?.map(({ sealedKey: _sealed, ...grant }) => grant),
      };
      ctx.output.result({ address, ...data, discriminator: undefined, metadata: publicMetadata }, [
        `${data.title}`,
        `  dataset        ${address}`,
        `  owner          ${data.owner}`,
        `  state          ${nameOf(STATES, data.state)}${data.revokeReason ? ` (reason ${data.revokeReason})` : ""}`,
        `  category       ${nameOf(CATEGORIES, data.category)}   tags: ${datasetTags(data).join(", ") || "-"}`,
        `  price          ${price} per ${data.terms.metered ? "credit" : "licence"} (mint ${data.paymentMint})`,
        `  terms          ${data.terms.durationSecs === 0n ? "perpetual" : formatDuration(data.terms.durationSecs)}, ` +
          `${data.terms.transferable ? "transferable" : "non-transferable"}, ` +
          `${data.terms.commercialUse ? "commercial use" : "no commercial use"}, ` +
          `${data.terms.derivativeModels ? "derivatives allowed" : "no derivatives"}` +
          `${data.terms.maxSupply ? `, max ${data.terms.maxSupply} outstanding` : ""}`,
        `  windows        delivery ${formatDuration(data.deliveryWindowSecs)}, dispute ${formatDuration(data.disputeWindowSecs)}`,
        `  delegate       ${delegateLine}`,
        ...(grants.former.length > 0
          ? [`  former         ${grants.former.join(", ")} (their copies in the metadata are no longer used; they could keep the key)`]
          : []),
        `  revenue        ${datasetRecipients(data).map((r) => `${r.wallet} ${bpsPercent(r.bps)}`).join(", ")}`,
        `  sales          ${data.licensesSold} sold, ${data.licensesOutstanding} outstanding, ${data.openDisputes} open disputes`,
        `  usage          ${usage}`,
        `  rating         ${rating === null ? "no paid reviews" : `${rating.toFixed(2)} / 5 (${data.ratings.paid.count} paid reviews)`}` +
          (freeRating === null ? "" : `, free licences ${freeRating.toFixed(2)} / 5 (${data.ratings.free.count})`),
        `  content        ${metadata ? `${formatBytes(metadata.plaintextBytes)}, ${metadata.fileName}` : "metadata unavailable"}`,
        `  sha256         ${Buffer.from(data.contentHash).toString("hex")}`,
        `  ciphertext     ${data.ciphertextCid}`,
        `  metadata       ${data.metadataUri}`,
        ...(data.previousVersion !== DEFAULT_ADDRESS ? [`  replaces       ${data.previousVersion}`] : []),
        ...(data.nextVersion !== DEFAULT_ADDRESS ? [`  replaced by    ${data.nextVersion}`] : []),
        `  created        ${isoTime(data.createdAt)}`,
      ]);
    });

  dataset
    .command("update")
    .description("change the price, delivery delegate or allow-list switch")
    .argument("<dataset>")
    .option("--price <amount>")
    .option("--delegate <card>", "name a delivery delegate by its card (`wallet card`), sealing the key to it (as `dataset delegate`)")
    .option("--allow-list <on|off>")
    .action(async (text: string, options: { price?: string; delegate?: string; allowList?: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const address = parseAddress(text, "dataset");
      const delegate = options.delegate === undefined ? undefined : readDelegateCard(options.delegate);
      const { data } = await fetchDataset(ctx.connection, address);
      const decimals = (await ctx.mint(data.paymentMint)).decimals;
      if (options.allowList && !["on", "off"].includes(options.allowList)) {
        throw new ClientError("usage", "--allow-list takes on or off");
      }
      // The grant is stored before the transaction names the delegate, so it never lacks a copy.
      const issued = delegate ? await issueDeliveryGrant(ctx.connection, await ctx.store(), wallet, { dataset: address, delegate }) : null;
      const signature = await sendWithWallet(
        ctx,
        await buildUpdateDataset({
          owner: wallet.signer,
          dataset: address,
          price: options.price ? parseAmount(options.price, decimals) : undefined,
          deliveryDelegate: delegate?.wallet,
          allowListEnabled: options.allowList ? options.allowList === "on" : undefined,
        }),
      );
      ctx.output.result(
        { dataset: address, signature, ...(issued ? { delegate: issued.delegate, grantCid: issued.grantCid } : {}) },
        [`dataset ${address} updated`, ...(issued ? grantLines(issued) : [])],
      );
    });

  dataset
    .command("delegate")
    .description("name the wallet that delivers keys for you while you are offline (its card seals the key to it), or remove it")
    .argument("<dataset>")
    .argument("[card]", "the delegate's card, as `data-market wallet card` prints it")
    .option("--remove", "remove the delivery delegate: the program refuses its deliveries from now on")
    .action(async (text: string, cardText: string | undefined, options: { remove?: boolean }) => {
      const ctx = context();
      const address = parseAddress(text, "dataset");
      if (Boolean(options.remove) === (cardText !== undefined)) {
        throw new ClientError("usage", "give either the delegate's card or --remove");
      }
      const wallet = await ctx.wallet();
      if (options.remove) {
        const removed = await removeDeliveryDelegate(ctx.connection, wallet, address);
        ctx.output.result(removed, [
          `dataset ${address} has no delivery delegate now; ${removed.removed} can no longer deliver`,
          "  a delegate that opened its copy of the content key could keep it: the key cannot be changed for a registered dataset",
        ]);
        return;
      }
      const delegate = readDelegateCard(cardText!);
      const result = await setDeliveryDelegate(ctx.connection, await ctx.store(), wallet, { dataset: address, delegate });
      ctx.output.result(
        { dataset: address, delegate: result.delegate, previous: result.previous, grantCid: result.grantCid, signature: result.signature },
        [
          `delivery delegate of ${address}: ${result.delegate}${result.signature ? "" : " (already named on chain)"}`,
          ...(result.previous && result.previous !== result.delegate
            ? [`  replaces       ${result.previous}, whose copy is no longer used (it could keep the key)`]
            : []),
          ...grantLines(result),
        ],
      );
    });

  dataset
    .command("state")
    .description("move a dataset through its lifecycle")
    .argument("<dataset>")
    .argument("<state>", "active, paused, unlisted, deprecated or retired")
    .action(async (text: string, stateText: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const address = parseAddress(text, "dataset");
      const state = parseState(stateText);
      const signature = await sendWithWallet(ctx, await buildSetDatasetState({ owner: wallet.signer, dataset: address, state }));
      ctx.output.result({ dataset: address, state: stateText, signature }, `dataset ${address} is now ${stateText}`);
    });

  for (const [name, build, verb] of [
    ["allow", buildAddToAllowList, "may now buy"],
    ["disallow", buildRemoveFromAllowList, "may no longer buy"],
  ] as const) {
    dataset
      .command(name)
      .description(name === "allow" ? "add a buyer to the allow-list" : "remove a buyer from the allow-list")
      .argument("<dataset>")
      .argument("<buyer>")
      .action(async (text: string, buyerText: string) => {
        const ctx = context();
        const wallet = await ctx.wallet();
        const address = parseAddress(text, "dataset");
        const buyer = parseAddress(buyerText, "buyer");
        const signature = await sendWithWallet(ctx, await build({ owner: wallet.signer, dataset: address, buyer }));
        ctx.output.result({ dataset: address, buyer, signature }, `${buyer} ${verb} ${address}`);
      });
  }

  dataset
    .command("revoke")
    .description("take a dataset down (the marketplace authority only)")
    .argument("<dataset>")
    .requiredOption("--reason <code>", "reason code, 1 to 255")
    .action(async (text: string, options: { reason: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const address = parseAddress(text, "dataset");
      const reason = parseInteger("--reason", options.reason, 1, 255);
      const signature = await sendWithWallet(ctx, await buildRevokeDataset({ authority: wallet.signer, dataset: address, reason }));
      ctx.output.result({ dataset: address, reason, signature }, `dataset ${address} revoked (reason ${reason})`);
    });

  dataset
    .command("close")
    .description("close a retired dataset with nothing owed, returning its rent")
    .argument("<dataset>")
    .action(async (text: string) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const address = parseAddress(text, "dataset");
      const signature = await sendWithWallet(ctx, await buildCloseDataset(ctx.connection, { owner: wallet.signer, dataset: address }));
      ctx.output.result({ dataset: address, signature }, `dataset ${address} closed`);
    });
}

function grantLines(issued: IssuedGrant): string[] {
  return issued.grantCid
    ? [
        `  grant          ${issued.grantCid}`,
        `  the delegate runs: data-market deliver --watch --grant ${issued.grantCid}`,
      ]
    : ["  grant          in the dataset's metadata (named at publication); the delegate needs no --grant"];
}

interface FindOptions {
  category?: string;
  tag: string[];
  mint?: string;
  minPrice?: string;
  maxPrice?: string;
  sort?: string;
  limit: string;
  cursor?: string;
  all?: boolean;
  verify: boolean;
  minSlot?: string;
}

function parseStateFilter(text: string): DatasetStateFilter {
  const lower = text.toLowerCase();
  return lower === "any" || lower === "listed" ? lower : parseState(text);
}

/** The filters every find command shares. */
async function findQuery(ctx: CliContext, options: FindOptions): Promise<DatasetQuery> {
  const paymentMint = options.mint === undefined ? undefined : parseAddress(options.mint, "--mint");
  if ((options.minPrice !== undefined || options.maxPrice !== undefined) && paymentMint === undefined) {
    throw new ClientError("usage", "--min-price and --max-price need --mint (prices are in a mint's units)");
  }
  const decimals = paymentMint === undefined ? 0 : (await ctx.mint(paymentMint)).decimals;
  if (options.sort !== undefined && !DATASET_SORTS.includes(options.sort as DatasetSort)) {
    throw new ClientError("usage", `--sort is one of ${DATASET_SORTS.join(", ")}, got "${options.sort}"`);
  }
  return {
    category: options.category === undefined ? undefined : parseCategory(options.category),
    tags: options.tag.length > 0 ? options.tag : undefined,
    paymentMint,
    minPrice: options.minPrice === undefined ? undefined : parseAmount(options.minPrice, decimals),
    maxPrice: options.maxPrice === undefined ? undefined : parseAmount(options.maxPrice, decimals),
    sort: options.sort as DatasetSort | undefined,
  };
}

/**
 * Runs a find command: through the indexer when there is one (each page checked on chain unless
 * --no-verify), else with getProgramAccounts; prints a page (or every page with --all), what was
 * left out and how to get the next page.
 */
async function findAndPrint(ctx: CliContext, query: DatasetQuery, options: FindOptions): Promise<void> {
  const limit = parseInteger("--limit", options.limit, 1, 100);
  const minSlot = parseMinSlot(options.minSlot);
  const indexer = ctx.indexer();
  if (!indexer) {
    const plan = chainQueryPlan(query);
    if (plan.narrowedBy === null && query.text !== undefined) {
      ctx.output.note(
        "warning: without an indexer (--indexer or DATA_MARKET_INDEXER) a text search downloads every dataset of the program from the RPC node",
      );
    }
  }
  if (indexer && !options.verify) {
    await printUnverified(ctx, indexer, query, { limit, cursor: options.cursor, minSlot, all: options.all ?? false });
    return;
  }
  const discovery = ctx.discovery();
  const datasets: Account<Dataset>[] = [];
  const dropped: DroppedItem[] = [];
  let request: PageRequest = { limit, cursor: options.cursor, minSlot };
  let next: string | null = null;
  for (;;) {
    const page = await discovery.searchDatasets(query, request);
    datasets.push(...page.datasets);
    dropped.push(...page.dropped);
    next = page.nextCursor;
    if (!options.all || next === null) break;
    request = { limit, cursor: next };
  }
  for (const item of dropped) {
    ctx.output.note(`warning: ${discovery.label} listed ${item.address}, left out: ${item.detail}`);
  }
  await printDatasets(ctx, datasets);
  if (next !== null) ctx.output.note(`more: add --cursor ${next} for the next page, or --all`);
}

/** --no-verify: the indexer's rows as it has them, said to be unchecked. */
async function printUnverified(
  ctx: CliContext,
  indexer: IndexerClient,
  query: DatasetQuery,
  page: { limit: number; cursor?: string; minSlot?: bigint; all: boolean },
): Promise<void> {
  ctx.output.note(`unverified: as the indexer at ${indexer.url} has them, not checked on chain (--no-verify)`);
  const states: (DatasetState | undefined)[] = query.state === "any" ? [undefined, DatasetState.Unlisted, DatasetState.Revoked] : [undefined];
  const items: IndexedDataset[] = [];
  let next: string | null = null;
  for (const state of states) {
    // every state: three searches, each read to its end (no cursor)
    let request: PageRequest = { limit: page.limit, cursor: query.state === "any" ? undefined : page.cursor, minSlot: page.minSlot };
    for (;;) {
      const answer = await indexer.searchDatasets(indexerSearchParams(query, state), request);
      items.push(...answer.items);
      next = answer.nextCursor;
      if (next === null || (!page.all && query.state !== "any")) break;
      request = { limit: page.limit, cursor: next };
    }
  }
  const rows: string[] = [];
  for (const item of items) {
    const mint = await ctx.mint(item.paymentMint).catch(() => null);
    const price = mint ? formatAmount(item.price, mint.decimals) : `${item.price} base units`;
    rows.push(
      `${item.address}  ${item.title}  [${item.category}; ${item.tags.join(", ") || "-"}]  ${price}  ${item.state}  ` +
        `${item.licensesSold} sold  ${item.rating.average === null ? "unrated" : `${item.rating.average.toFixed(1)}★`}  (unverified)`,
    );
  }
  ctx.output.result(
    items.map((item) => ({ ...item, verified: false })),
    rows.length > 0 ? rows : ["no datasets found"],
  );
  if (next !== null && query.state !== "any") ctx.output.note(`more: add --cursor ${next} for the next page, or --all`);
}

async function printDatasets(ctx: CliContext, datasets: Account<Dataset>[]): Promise<void> {
  const rows: string[] = [];
  for (const { address, data } of datasets) {
    const price = await ctx.amount(data.paymentMint, data.price);
    const rating = datasetAverageRating(data);
    rows.push(
      `${address}  ${data.title}  [${nameOf(CATEGORIES, data.category)}; ${datasetTags(data).join(", ") || "-"}]  ` +
        `${price}${data.terms.metered ? "/credit" : ""}  ${nameOf(STATES, data.state)}  ` +
        `${data.licensesSold} sold  ${rating === null ? "unrated" : `${rating.toFixed(1)}★`}`,
    );
  }
  ctx.output.result(
    datasets.map(({ address, data }) => ({ address, ...data, discriminator: undefined })),
    rows.length > 0 ? rows : ["no datasets found"],
  );
}


/** The preview limits of the command line. */
function previewLimits(chunks: string, perPeriod: string, period: string): PreviewLimits {
  return {
    chunksPerPreview: parseInteger("--preview", chunks, 0, 8),
    maxPerPeriod: parseInteger("--previews-per-period", perPeriod, 1, 65_535),
    periodSecs: parseDuration(period),
  };
}

export function registerPreviewCommands(dataset: Command, context: () => CliContext): void {
  dataset
    .command("preview-limits")
    .description("offer previews of a dataset you published (its chunk tree root is registered for good), or change their limits")
    .argument("<dataset>")
    .requiredOption("--chunks <n>", "chunks one preview reveals (0 pauses previews)")
    .option("--per-period <n>", "previews answered per period, across all buyers", "10")
    .option("--period <duration>", "the period the limit counts over", "1h")
    .action(async (text: string, options: { chunks: string; perPeriod: string; period: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const address = parseAddress(text, "dataset");
      const limits = previewLimits(options.chunks, options.perPeriod, options.period);
      const existing = await fetchPreviewPolicy(ctx.connection, address);
      const sent = existing
        ? await setPreviewLimits(ctx.connection, wallet, { dataset: address, limits })
        : await enablePreviews(ctx.connection, wallet, {
            dataset: address,
            metadata: await readMetadata(await ctx.store(), (await fetchDataset(ctx.connection, address)).data.metadataUri, { timeoutMs: 60_000 }),
            limits,
          });
      ctx.output.result(
        { dataset: address, signature: sent.signature, ...limits },
        limits.chunksPerPreview === 0
          ? `previews of ${address} are paused`
          : `previews of ${address}: ${limits.chunksPerPreview} chunk(s) each, at most ${limits.maxPerPeriod} per ${formatDuration(limits.periodSecs)}`,
      );
    });

  dataset
    .command("preview")
    .description("ask for a verifiable random preview: the chain draws the chunks, the owner reveals them, each is checked against the registered root")
    .argument("<dataset>")
    .option("-o, --output <dir>", "write each revealed chunk to <dir>/chunk-<index>.bin")
    .option("--request <address>", "check a preview you already asked for instead of asking again")
    .option("--timeout <duration>", "give up when the bundle cannot be found on IPFS for this long", "60s")
    .action(async (text: string, options: { output?: string; request?: string; timeout: string }) => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const address = parseAddress(text, "dataset");
      let request: Address;
      if (options.request) {
        request = parseAddress(options.request, "--request");
      } else {
        const asked = await requestPreview(ctx.connection, wallet, { dataset: address });
        request = asked.request;
        ctx.output.note(`asked for preview ${request}; waiting for the owner's answer`);
      }
      let lastNote = 0;
      const outcome = await waitForPreview(ctx.connection, wallet, request, {
        signal: ctx.signal,
        onWait: (slotsLeft) => {
          if (Date.now() - lastNote < 10_000) return;
          lastNote = Date.now();
          ctx.output.note(`still waiting: ${slotsLeft} slot(s) left for the owner to answer`);
        },
      });
      if (outcome.state === "expired") {
        throw new ClientError(
          "refused",
          `the owner did not answer preview ${request} in time; the chain records it as expired` +
            (outcome.expireSignature ? ` (transaction ${outcome.expireSignature})` : ""),
        );
      }
      const preview = await fetchVerifiedPreview(ctx.connection, await ctx.store(), outcome.request, {
        timeoutMs: parseDuration(options.timeout) * 1000,
      });
      const files: string[] = [];
      if (options.output) {
        await mkdir(options.output, { recursive: true });
        for (const chunk of preview.chunks) {
          const file = join(options.output, `chunk-${chunk.index}.bin`);
          await writeFile(file, chunk.bytes);
          files.push(file);
        }
      }
      ctx.output.result(
        {
          dataset: preview.dataset,
          request: preview.request,
          chunkTreeRoot: toHex(preview.root),
          chunkCount: preview.chunkCount,
          chunks: preview.chunks.map((c, i) => ({ index: c.index, bytes: c.bytes.length, ...(files[i] ? { file: files[i] } : {}) })),
        },
        [
          `preview ${preview.request}: ${preview.chunks.length} of ${preview.chunkCount} chunks, each verified against the registered root ${toHex(preview.root)}`,
          ...preview.chunks.map((c, i) => `  chunk ${c.index}  ${formatBytes(c.bytes.length)}${files[i] ? `  ${files[i]}` : `  ${excerpt(c.bytes)}`}`),
        ],
      );
    });
}

/** The start of a chunk as text when it reads as text, for a glance in the terminal. */
function excerpt(bytes: Uint8Array): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(0, 80));
  return /^[\p{L}\p{N}\p{P}\p{Zs}\t\r\n]*$/u.test(text.replace(/\uFFFD$/, "")) ? JSON.stringify(text.replace(/\uFFFD$/, "")) + "…" : "(binary)";
}
