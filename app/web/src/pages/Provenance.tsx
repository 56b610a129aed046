// Model provenance (#/provenance): every usage receipt naming a model's sha256, so which licensed
// datasets went into it, under which licence, for what, when and attested by whom. The receipts come
// from the indexer when the settings name one (each checked on chain) or from the chain itself.
import { useState } from "react";
import type { Account, Address } from "@solana/kit";

import { toHex } from "../../../src/crypto/web.js";
import { accountLists, fetchAllOfKind, isDefaultAddress, type Dataset, type UsageReceipt } from "../../../src/sdk/index.js";
import { explainForPeople } from "../errors.js";
import { PURPOSE_NAMES, dateTime, shortAddress } from "../format.js";
import { readList } from "../lists.js";
import { useMarket } from "../market.js";
import { ModelHashInput } from "../ModelHash.js";

interface Row {
  receipt: Account<UsageReceipt>;
  dataset: Account<Dataset> | null;
  /** The slot of the transaction that created the receipt. */
  slot: bigint | null;
}

export function Provenance() {
  const { config, connection } = useMarket();
  const [hash, setHash] = useState<Uint8Array | null>(null);
  const [result, setResult] = useState<{ hash: string; rows: Row[] } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function search(modelHash: Uint8Array) {
    setBusy(true);
    setError(null);
    try {
      const receipts = await readList(config, connection, accountLists.receiptsByModelHash(modelHash));
      receipts.sort((a, b) => Number(a.data.recordedAt - b.data.recordedAt));
      const datasets = await fetchAllOfKind(connection, "Dataset", [...new Set(receipts.map((r) => r.data.dataset))]);
      const byAddress = new Map<Address, Account<Dataset>>(datasets.map((d) => [d.address, d]));
      const rows = await Promise.all(
        receipts.map(async (receipt) => {
          // A receipt is written once, when the use is recorded: its oldest signature is that one.
          const signatures = await connection.rpc.getSignaturesForAddress(receipt.address, { limit: 1000 }).send();
          const first = signatures[signatures.length - 1];
          return { receipt, dataset: byAddress.get(receipt.data.dataset) ?? null, slot: first ? first.slot : null };
        }),
      );
      setResult({ hash: toHex(modelHash), rows });
    } catch (e) {
      setError(explainForPeople(e, { rpcUrl: connection.url }).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="provenance-title">
      <h1 id="provenance-title">Model provenance</h1>
      <p>
        Which licensed datasets went into a model: every usage receipt recorded on chain for the model's sha256, with the licence
        it was recorded under. Receipts are recorded by licence holders; an attestor, when named, co-signed the receipt.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (hash) void search(hash);
        }}
      >
        <ModelHashInput onChange={setHash} disabled={busy} />
        <p>
          <button type="submit" disabled={busy || !hash}>Find the datasets</button>
        </p>
      </form>
      <div aria-live="polite">{busy ? <p>Reading the receipts…</p> : null}</div>
      {error ? <p role="alert" className="error">{error}</p> : null}
      {result && !busy ? (
        result.rows.length === 0 ? (
          <p role="status">No use of a licensed dataset is recorded for model {result.hash}.</p>
        ) : (
          <>
            <p role="status">
              {result.rows.length} recorded {result.rows.length === 1 ? "use" : "uses"} of {new Set(result.rows.map((r) => r.receipt.data.dataset)).size} licensed
              {new Set(result.rows.map((r) => r.receipt.data.dataset)).size === 1 ? " dataset" : " datasets"} for model <code className="hex">{result.hash}</code>.
            </p>
            <table>
              <caption className="visually-hidden">Usage receipts of model {result.hash}</caption>
              <thead>
                <tr>
                  <th scope="col">Dataset</th>
                  <th scope="col">Licence</th>
                  <th scope="col">Purpose</th>
                  <th scope="col">Recorded</th>
                  <th scope="col">Slot</th>
                  <th scope="col">Attestor</th>
                </tr>
              </thead>
              <tbody>
                {result.rows.map(({ receipt, dataset, slot }) => (
                  <tr key={receipt.address} data-receipt={receipt.address}>
                    <td>{dataset ? <a href={`#/dataset/${dataset.address}`}>{dataset.data.title || "(untitled)"}</a> : <code>{receipt.data.dataset}</code>} </td>
                    <td><a href={`#/licence/${receipt.data.license}`} title={receipt.data.license}>{shortAddress(receipt.data.license)}</a></td>
                    <td>{PURPOSE_NAMES[receipt.data.purpose]}</td>
                    <td>{dateTime(receipt.data.recordedAt)}</td>
                    <td>{slot === null ? "unknown" : slot.toString()}</td>
                    <td>{isDefaultAddress(receipt.data.attestor) ? "none" : <code title={receipt.data.attestor}>{shortAddress(receipt.data.attestor)}</code>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )
      ) : null}
    </section>
  );
}
