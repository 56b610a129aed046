// The connected wallet's licences, read from the chain, with what happens next and when.
import { useEffect, useState } from "react";
import type { Account, Address } from "@solana/kit";

import { fetchMaybeDataset, findLicenses, isKeyDelivered, LicenseState, queries, type Dataset, type License } from "../../../src/sdk/index.js";
import { explainForPeople } from "../errors.js";
import { LICENSE_STATE_NAMES, countdown } from "../format.js";
import { useClusterNow, useTokenAmount } from "../hooks.js";
import { useMarket } from "../market.js";
import { useMarketWallet } from "../wallet.js";
import { LicenceDownload } from "./LicenceDownload.js";

interface Row {
  license: Account<License>;
  dataset: Account<Dataset> | null;
}

export function Licences() {
  const { connection, revision } = useMarket();
  const { connected } = useMarketWallet();
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const now = useClusterNow();
  const owner = (connected?.account.address ?? null) as Address | null;

  useEffect(() => {
    if (!owner) return;
    let current = true;
    setError(null);
    (async () => {
      const licenses = await findLicenses(connection, queries.licensesByBuyer(owner));
      licenses.sort((a, b) => Number(b.data.boughtAt - a.data.boughtAt));
      const withDatasets = await Promise.all(licenses.map(async (license) => ({ license, dataset: await fetchMaybeDataset(connection, license.data.dataset) })));
      if (current) setRows(withDatasets);
    })().catch((e: unknown) => current && setError(explainForPeople(e, { rpcUrl: connection.url }).message));
    return () => {
      current = false;
    };
  }, [connection, owner, revision]);

  return (
    <section aria-labelledby="licences-title">
      <h1 id="licences-title">My licences</h1>
      {!owner ? <p>Connect a wallet to see its licences.</p> : null}
      {error ? <p role="alert" className="error">{error}</p> : null}
      {owner && rows === null && !error ? <p>Loading…</p> : null}
      {owner && rows?.length === 0 ? <p>This wallet holds no licence yet. <a href="#/">Browse datasets</a>.</p> : null}
      {owner && rows && rows.length > 0 ? (
        <table>
          <caption className="visually-hidden">Licences held by {owner}</caption>
          <thead>
            <tr>
              <th scope="col">Dataset</th>
              <th scope="col">State</th>
              <th scope="col">Paid</th>
              <th scope="col">What next</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <LicenceRow key={row.license.address} row={row} now={now} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function LicenceRow({ row, now }: { row: Row; now: number | null }) {
  const { license, dataset } = row;
  const l = license.data;
  const price = useTokenAmount(dataset?.data.paymentMint ?? null);
  return (
    <tr data-licence={license.address}>
      <td>{dataset ? <a href={`#/dataset/${dataset.address}`}>{dataset.data.title || "(untitled)"}</a> : <code>{l.dataset}</code>}</td>
      <td>{LICENSE_STATE_NAMES[l.state]}</td>
      <td>{price ? price(l.pricePaid) : l.pricePaid.toString()}{l.credits > 1n ? ` (${l.credits} credits)` : ""}</td>
      <td>
        {nextStep(l, dataset?.data ?? null, now)}{" "}
        <a href={`#/licence/${license.address}`} aria-label={`Open the licence of ${dataset?.data.title || l.dataset}`}>Open</a>
        <LicenceDownload license={license} dataset={dataset} />
      </td>
    </tr>
  );
}

function nextStep(l: License, d: Dataset | null, now: number | null): string {
  if (now === null || d === null) return "…";
  switch (l.state) {
    case LicenseState.AwaitingKey: {
      const left = countdown(l.boughtAt + BigInt(d.deliveryWindowSecs), now);
      return left ? `The owner has ${left} left to deliver the key.` : "The key is overdue: you can ask for a refund.";
    }
    case LicenseState.Delivered: {
      const parts = [isKeyDelivered(l) ? "Key delivered." : "Delivered."];
      const dispute = countdown(l.deliveredAt + BigInt(d.disputeWindowSecs), now);
      if (dispute) parts.push(`Disputes possible for ${dispute}.`);
      if (l.expiresAt > 0n) {
        const left = countdown(l.expiresAt, now);
        parts.push(left ? `Expires in ${left}.` : "Expired: renew to use it again.");
      } else parts.push("Never expires.");
      return parts.join(" ");
    }
    case LicenseState.Settled: {
      if (l.expiresAt === 0n) return "Paid out to the owner; the licence never expires.";
      const left = countdown(l.expiresAt, now);
      return left ? `Paid out to the owner; expires in ${left}.` : "Expired: renew to use it again.";
    }
    case LicenseState.Disputed:
      return "A dispute is open: the arbiter rules on it.";
    case LicenseState.Refunded:
      return "Refunded.";
  }
}
