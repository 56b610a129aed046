// Buying, renewing and topping up, with the buyer's price limit checked twice: before sending
// (a clear refusal without a fee) and by the program (PriceAboveMax, if the owner raised the price
// in between). Either way the caller gets a PriceAboveMaxError carrying the current price.
import type { Address, Instruction } from "@solana/kit";

import {
  LicenseState,
  buildBuyCredits,
  buildPurchaseLicense,
  buildRenewLicense,
  fetchDataset,
  fetchMaybeLicense,
  findLicenseAddress,
} from "../sdk/index.js";
import { TransactionFailedError, type MarketConnection, type SentTransaction } from "./connection.js";
import { ClientError } from "./errors.js";
import type { MarketWallet } from "./wallet.js";

export class PriceAboveMaxError extends ClientError {
  override name = "PriceAboveMaxError";

  constructor(
    readonly dataset: Address,
    readonly paymentMint: Address,
    readonly price: bigint,
    readonly maxPrice: bigint,
  ) {
    super("refused", `the price is ${price} base units, above the maximum ${maxPrice}`);
  }
}

/** The total a purchase costs: the price, or the price per credit times the credits when metered. */
export function purchaseTotal(price: bigint, metered: boolean, credits: number): bigint {
  return metered ? price * BigInt(credits) : price;
}

export interface PurchaseResult extends SentTransaction {
  license: Address;
  total: bigint;
}

export async function buyLicense(
  connection: MarketConnection,
  buyer: MarketWallet,
  input: { dataset: Address; maxPrice: bigint; credits?: number; referrer?: Address },
): Promise<PurchaseResult> {
  const dataset = await fetchDataset(connection, input.dataset);
  const license = await findLicenseAddress(input.dataset, buyer.signer.address);
  const existing = await fetchMaybeLicense(connection, license);
  if (existing && existing.data.state !== LicenseState.Refunded) {
    throw new ClientError("refused", `you already hold licence ${license} for this dataset (renew or buy credits instead)`);
  }
  const credits = dataset.data.terms.metered ? (input.credits ?? 1) : 0;
  if (!dataset.data.terms.metered && input.credits !== undefined) {
    throw new ClientError("usage", "this dataset is not metered: it sells licences, not credits");
  }
  const total = purchaseTotal(dataset.data.price, dataset.data.terms.metered, credits);
  checkPrice(input.dataset, dataset.data.paymentMint, total, input.maxPrice);
  const buyerKeys = await buyer.encryptionKeyPair();
  const instructions = await buildPurchaseLicense(connection, {
    buyer: buyer.signer,
    dataset: input.dataset,
    maxPrice: input.maxPrice,
    buyerEncryptionKey: buyerKeys.publicKey,
    referrer: input.referrer,
    credits: credits || undefined,
  });
  const sent = await sendPriced(connection, buyer, instructions, input.dataset, input.maxPrice, (d) =>
    purchaseTotal(d.price, d.terms.metered, credits),
  );
  return { ...sent, license, total };
}

export async function renewLicense(
  connection: MarketConnection,
  buyer: MarketWallet,
  input: { dataset: Address; maxPrice: bigint },
): Promise<SentTransaction & { total: bigint }> {
  const dataset = await fetchDataset(connection, input.dataset);
  checkPrice(input.dataset, dataset.data.paymentMint, dataset.data.price, input.maxPrice);
  const instructions = await buildRenewLicense(connection, {
    buyer: buyer.signer,
    dataset: input.dataset,
    maxPrice: input.maxPrice,
  });
  const sent = await sendPriced(connection, buyer, instructions, input.dataset, input.maxPrice, (d) => d.price);
  return { ...sent, total: dataset.data.price };
}

export async function buyCredits(
  connection: MarketConnection,
  buyer: MarketWallet,
  input: { dataset: Address; credits: number; maxPrice: bigint },
): Promise<SentTransaction & { total: bigint }> {
  const dataset = await fetchDataset(connection, input.dataset);
  const total = purchaseTotal(dataset.data.price, true, input.credits);
  checkPrice(input.dataset, dataset.data.paymentMint, total, input.maxPrice);
  const instructions = await buildBuyCredits(connection, {
    buyer: buyer.signer,
    dataset: input.dataset,
    credits: input.credits,
    maxPrice: input.maxPrice,
  });
  const sent = await sendPriced(connection, buyer, instructions, input.dataset, input.maxPrice, (d) =>
    purchaseTotal(d.price, true, input.credits),
  );
  return { ...sent, total };
}

function checkPrice(dataset: Address, mint: Address, total: bigint, maxPrice: bigint): void {
  if (total > maxPrice) throw new PriceAboveMaxError(dataset, mint, total, maxPrice);
}

/** Sends; a PriceAboveMax refusal (the price changed since it was read) becomes PriceAboveMaxError. */
async function sendPriced(
  connection: MarketConnection,
  buyer: MarketWallet,
  instructions: Instruction[],
  dataset: Address,
  maxPrice: bigint,
  totalOf: (d: { price: bigint; terms: { metered: boolean } }) => bigint,
): Promise<SentTransaction> {
  try {
    return await connection.send(buyer.signer, instructions);
  } catch (error) {
    if (error instanceof TransactionFailedError && error.errorName === "PriceAboveMax") {
      const now = await fetchDataset(connection, dataset);
      throw new PriceAboveMaxError(dataset, now.data.paymentMint, totalOf(now.data), maxPrice);
    }
    throw error;
  }
}
