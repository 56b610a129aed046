// Small reads shared by the pages: one mint's decimals, its amounts for people, and a clock
// following the cluster's.
import { useEffect, useState } from "react";
import type { Address } from "@solana/kit";

import { fetchMintInfo, type MintInfo } from "../../src/client/universal.js";
import { tokenAmount } from "./format.js";
import { useMarket } from "./market.js";

const mints = new Map<string, Promise<MintInfo>>();

export function useMint(address: Address | null): MintInfo | null {
  const { connection } = useMarket();
  const [mint, setMint] = useState<MintInfo | null>(null);
  useEffect(() => {
    if (!address) return;
    let current = true;
    const key = `${connection.url}|${address}`;
    if (!mints.has(key)) mints.set(key, fetchMintInfo(connection, address).catch((e: unknown) => (mints.delete(key), Promise.reject(e))));
    mints.get(key)!.then((m) => current && setMint(m), () => current && setMint(null));
    return () => {
      current = false;
    };
  }, [connection, address]);
  return mint;
}

/** How amounts of this payment mint read for people (see `tokenAmount`); null while unknown. */
export function useTokenAmount(address: Address | null): ((amount: bigint) => string) | null {
  const { config } = useMarket();
  const mint = useMint(address);
  return address ? (amount: bigint) => tokenAmount(amount, mint, address, config.tokens) : null;
}

/** The cluster's unix time, read once and then advanced by the local clock every second. */
export function useClusterNow(): number | null {
  const { connection } = useMarket();
  const [offset, setOffset] = useState<number | null>(null);
  const [tick, setTick] = useState(Date.now());
  useEffect(() => {
    let current = true;
    connection.now().then((t) => current && setOffset(Number(t) - Date.now() / 1000), () => current && setOffset(0));
    const timer = setInterval(() => setTick(Date.now()), 1000);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [connection]);
  return offset === null ? null : tick / 1000 + offset;
}
