// Buying: the wallet signs the key-derivation message (once; the key stays in this page's memory),
// then the purchase with the price shown as its maximum, through the client layer's buyLicense.
import { useEffect, useState } from "react";
import type { Account, Address } from "@solana/kit";

import { buyLicense, purchaseTotal, type PurchaseResult } from "../../../src/client/universal.js";
import { DatasetState, LicenseState, fetchMaybeLicense, findLicenseAddress, type Dataset, type License } from "../../../src/sdk/index.js";
import { explainForPeople, isWalletRejection } from "../errors.js";
import { useMarket } from "../market.js";
import { useMarketWallet } from "../wallet.js";

type Step =
  | { kind: "idle" }
  | { kind: "key" }
  | { kind: "purchase" }
  | { kind: "done"; result: PurchaseResult }
  | { kind: "failed"; message: string; cannotSignMessages?: boolean };

const CANNOT_SIGN_MESSAGES =
  "Buying needs your wallet to sign one message: the key your licence is sealed to is derived from that signature, so only you can open the dataset. This wallet cannot sign messages (hardware wallets such as Ledger often cannot). Use a wallet that can, for example a software wallet holding the same or another account.";

export function BuyPanel({
  dataset,
  formatPrice,
  onPriceChanged,
}: {
  dataset: Account<Dataset>;
  formatPrice(amount: bigint): string;
  onPriceChanged(): void;
}) {
  const { connection, health, refresh, revision } = useMarket();
  const { connected, marketWallet, canSignMessage, sendsItself } = useMarketWallet();
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const [existing, setExisting] = useState<Account<License> | null>(null);
  const [credits, setCredits] = useState("1");
  const d = dataset.data;
  const buyer = (connected?.account.address ?? null) as Address | null;

  useEffect(() => {
    setStep({ kind: "idle" });
  }, [buyer, dataset.address]);
  useEffect(() => {
    if (!buyer) return setExisting(null);
    let current = true;
    findLicenseAddress(dataset.address, buyer)
      .then((address) => fetchMaybeLicense(connection, address))
      .then((l) => current && setExisting(l && l.data.state !== LicenseState.Refunded ? l : null), () => current && setExisting(null));
    return () => {
      current = false;
    };
  }, [connection, dataset.address, buyer, revision]);

  const creditCount = d.terms.metered ? Math.max(1, Math.floor(Number(credits) || 1)) : 0;
  const total = purchaseTotal(d.price, d.terms.metered, creditCount);
  const onSale = d.state === DatasetState.Active;

  async function buy() {
    if (!marketWallet) return;
    try {
      setStep({ kind: "key" });
      try {
        await marketWallet.encryptionKeyPair();
      } catch (error) {
        if (isWalletRejection(error)) throw error;
        setStep({ kind: "failed", message: CANNOT_SIGN_MESSAGES, cannotSignMessages: true });
        return;
      }
      setStep({ kind: "purchase" });
      const result = await buyLicense(connection, marketWallet, {
        dataset: dataset.address,
        maxPrice: total,
        credits: d.terms.metered ? creditCount : undefined,
      });
      setStep({ kind: "done", result });
      refresh();
    } catch (error) {
      const failure = explainForPeople(error, { rpcUrl: connection.url, formatPrice });
      setStep({ kind: "failed", message: failure.message });
      if (failure.kind === "price-changed") onPriceChanged();
    }
  }

  let body;
  if (!onSale) body = <p>This dataset is not on sale ({d.state === DatasetState.OrderingPaused ? "sales are paused" : "it is no longer offered"}).</p>;
  else if (health.status === "problem") body = <p>Buying is off until the settings point at a cluster where this program runs (see the message at the top).</p>;
  else if (!connected) body = <p>Connect a wallet (top of the page) to buy.</p>;
  else if (!canSignMessage) body = <p role="note">{CANNOT_SIGN_MESSAGES}</p>;
  else if (step.kind === "done") body = null; // the confirmation below says what happened and what comes next
  else if (existing) {
    body = <p>You already hold a licence for this dataset. See <a href="#/licences">My licences</a>.</p>;
  } else {
    const busy = step.kind === "key" || step.kind === "purchase";
    body = (
      <>
        <p>Buying takes two approvals in your wallet:</p>
        <ol>
          <li>
            Signing a fixed message. It costs nothing and sends nothing: your licence key is derived from the signature, so
            the dataset's key can be sealed to you alone. The key stays in this page's memory and is never stored.
          </li>
          <li>
            The purchase transaction, paying at most <strong>{formatPrice(total)}</strong> (the price shown). If the owner
            changes the price before it lands, nothing is charged.
            {sendsItself ? " Your wallet sends it;" : " This page sends it;"} the network fee and the licence account's rent are paid in SOL.
          </li>
        </ol>
        {d.terms.metered ? (
          <p>
            <label htmlFor="credits">Credits to buy</label>{" "}
            <input id="credits" type="number" min={1} value={credits} onChange={(e) => setCredits(e.target.value)} disabled={busy} />
          </p>
        ) : null}
        <button type="button" onClick={buy} disabled={busy || !marketWallet}>
          {d.price === 0n ? "Get the free licence" : `Buy for ${formatPrice(total)}`}
        </button>
      </>
    );
  }

  return (
    <section aria-labelledby="buy-title" className="buy">
      <h2 id="buy-title">Buy</h2>
      {body}
      <div aria-live="polite">
        {step.kind === "key" ? <p>Waiting for your wallet to sign the key message…</p> : null}
        {step.kind === "purchase" ? <p>Waiting for your wallet to approve the purchase, then for the cluster to confirm it…</p> : null}
        {step.kind === "done" ? (
          <p className="success" role="status">
            Bought. Your licence is <code>{step.result.license}</code> (transaction <code>{step.result.signature}</code>). The
            owner now delivers the key; follow it in <a href="#/licences">My licences</a>.
          </p>
        ) : null}
      </div>
      {step.kind === "failed" ? <p role="alert" className="error">{step.message}</p> : null}
    </section>
  );
}
