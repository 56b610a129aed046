// What a fresh cluster needs before anyone can trade: funded wallets, a USDC-like payment mint
// (6 decimals, minted by the operator) and the marketplace itself. Used by the local stack, the
// narrated journey and the tests, on an embedded SVM or any RPC cluster.
import type { Address, TransactionSigner } from "@solana/kit";

import {
  createMint,
  ensureTokenAccount,
  fetchMintInfo,
  mintTo,
  type MarketConnection,
  type MintInfo,
} from "../client/index.js";
import { DEFAULT_MIN_WINDOW_SECS, buildInitializeMarketplace, fetchMarketplace, findMarketplaceAddress } from "../sdk/index.js";

export const USDC_DECIMALS = 6;
export const USDC = 10n ** BigInt(USDC_DECIMALS);
export const SOL = 1_000_000_000n;

export interface ProvisionOptions {
  /** The program's upgrade authority: creates the marketplace and mints the test USDC. */
  operator: TransactionSigner;
  /** Wallets to fund with SOL and test USDC. */
  wallets: readonly { address: Address; usdc: bigint }[];
  /** An existing payment mint (the operator must be its mint authority); created when absent. */
  usdcMint?: Address;
  protocolFeeBps?: number;
  maxReferralFeeBps?: number;
  /** The marketplace's minimum windows (default: a production hour; the local stack uses seconds). */
  minDeliveryWindowSecs?: number;
  minDisputeWindowSecs?: number;
  solPerWallet?: bigint;
}

export interface ProvisionedMarket {
  marketplace: Address;
  usdc: MintInfo;
  treasury: Address;
  /** The marketplace's minimum windows as the chain has them (an existing marketplace keeps its own). */
  minDeliveryWindowSecs: number;
  minDisputeWindowSecs: number;
}

export async function provisionMarket(connection: MarketConnection, options: ProvisionOptions): Promise<ProvisionedMarket> {
  const operator = options.operator;
  const sol = options.solPerWallet ?? 10n * SOL;
  for (const address of [operator.address, ...options.wallets.map((w) => w.address)]) {
    if ((await connection.getLamports(address)) < sol / 2n) await connection.airdrop(address, sol);
  }
  const usdc = await fetchMintInfo(
    connection,
    options.usdcMint ?? (await createMint(connection, operator, operator.address, USDC_DECIMALS)),
  );
  for (const { address, usdc: amount } of options.wallets) {
    if (amount > 0n) await mintTo(connection, operator, usdc, operator, address, amount);
    else await ensureTokenAccount(connection, operator, usdc, address);
  }
  const marketplace = await findMarketplaceAddress();
  const [existing] = await connection.getAccounts([marketplace]);
  if (!existing?.exists) {
    await connection.send(
      operator,
      await buildInitializeMarketplace({
        authority: operator,
        treasury: operator.address,
        arbiter: operator.address,
        protocolFeeBps: options.protocolFeeBps ?? 250,
        maxReferralFeeBps: options.maxReferralFeeBps ?? 1_000,
        minDeliveryWindowSecs: options.minDeliveryWindowSecs ?? DEFAULT_MIN_WINDOW_SECS,
        minDisputeWindowSecs: options.minDisputeWindowSecs ?? DEFAULT_MIN_WINDOW_SECS,
      }),
    );
  }
  const { data } = await fetchMarketplace(connection, marketplace);
  await ensureTokenAccount(connection, operator, usdc, data.treasury);
  return {
    marketplace,
    usdc,
    treasury: data.treasury,
    minDeliveryWindowSecs: data.minDeliveryWindowSecs,
    minDisputeWindowSecs: data.minDisputeWindowSecs,
  };
}
