// Model provenance (#/provenance): every usage receipt naming a model's sha256, so which licensed
// datasets went into it, under which licence, for what, when and attested by whom. The receipts come
// from the indexer when the settings name one (each checked on chain) or from the chain itself.
import { useState } from "react";
import type { Account, Address } from "@solana/kit";

import { buildBillOfData, fetchMintInfo, formatAmount, renderBillMarkdown, signBillOfData } from "../../../src/client/universal.js";
import { fromHex, toHex } from "../../../src/crypto/web.js";
import { accountLists, fetchAllOfKind, isDefaultAddress, type Dataset, type UsageReceipt } from "../../../src/sdk/index.js";
import { explainForPeople } from "../errors.js";
import { PURPOSE_NAMES, dateTime, shortAddress } from "../format.js";
import { readList } from "../lists.js";
import { useMarket } from "../market.js";
import { ModelHashInput } from "../ModelHash.js";
import { useMarketWallet } from "../wallet.js";

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
  const { marketWallet, canSignMessage } = useMarketWallet();
  const [bill, setBill] = useState<{ state: "signing" } | { state: "ready"; json: string; markdown: string; name: string } | { state: "failed"; message: string } | null>(null);

  // The bill of data: the same signed document as `data-market provenance export`.
  async function exportBill(modelHash: Uint8Array) {
    if (!marketWallet) return;
    setBill({ state: "signing" });
    try {
      const unsigned = await buildBillOfData({
        connection,
        modelHash,
        signer: marketWallet.signer.address,
        listReceipts: (list) => readList(config, connection, list),
      });
      const foreign = unsigned.uses.find((u) => u.holder !== marketWallet.signer.address);
      if (foreign) {
        setBill({ state: "failed", message: `Use ${foreign.receipt} was recorded by ${foreign.holder}: only the wallet that recorded the uses can sign their bill of data.` });
        return;
      }
      const signed = await signBillOfData(unsigned, marketWallet);
      const decimals = new Map<Address, number>();
      for (const licence of signed.licences) decimals.set(licence.paymentMint, (await fetchMintInfo(connection, licence.paymentMint)).decimals);
      const markdown = renderBillMarkdown(signed, (mint, amount) => formatAmount(amount, decimals.get(mint) ?? 0));
      const json = `${JSON.stringify(signed, null, 2)}\n`;
      setBill({
        state: "ready",
        json: URL.createObjectURL(new Blob([json], { type: "application/json" })),
        markdown: URL.createObjectURL(new Blob([markdown], { type: "text/markdown" })),
        name: `bill-of-data-${signed.model.sha256.slice(0, 16)}`,
      });
    } catch (e) {
      setBill({ state: "failed", message: explainForPeople(e, { rpcUrl: connection.url }).message });
    }
  }
  const [error, setError] = useState<string | null>(null);

  async function search(modelHash: Uint8Array) {
    setBill(null);
    setBusy(true);
    setError(null);
    try {
      const receipts = await readList(config, connection, accountLists.receiptsByModelHash(modelHash));
      receipts.sort((a, b) => Number(a.data.recordedAt - b.data.recordedAt));
      const datasets = await fetchAllOfKind(connection, "Dataset", [...new Set(receipts.map((r) => r.data.dataset))]);
      const byAddress = new Map<Address, Account<Dataset>>(datasets.map((d) => [d.address, d]));
      const rows = await Promise.all(
        receipts.map(async (receipt) => {
          // A receipt is written once, when the use is recorded: the transaction that first wrote it.
          const first = await connection.firstTransaction(receipt.address);
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
            <h2>Bill of data</h2>
            <p>
              One signed document of every dataset, licence and recorded use behind this model, for customers and auditors (its fields map
              onto the EU summary of training content). Anyone can check it against the chain with{" "}
              <code>data-market provenance verify</code>. The wallet that recorded the uses signs it.
            </p>
            {!marketWallet ? (
              <p>Connect the wallet that recorded these uses to sign the bill of data.</p>
            ) : !canSignMessage ? (
              <p>This wallet cannot sign messages, so it cannot sign a bill of data; the CLI can, with the same account's keypair.</p>
            ) : (
              <p>
                <button type="button" disabled={bill?.state === "signing"} onClick={() => void exportBill(fromHex(result.hash))}>
                  {bill?.state === "signing" ? "Waiting for the wallet's signature…" : "Sign and download the bill of data"}
                </button>
              </p>
            )}
            {bill?.state === "failed" ? <p role="alert" className="error">{bill.message}</p> : null}
            {bill?.state === "ready" ? (
              <p role="status">
                Signed. <a href={bill.json} download={`${bill.name}.json`}>Download the bill of data (JSON)</a> ·{" "}
                <a href={bill.markdown} download={`${bill.name}.md`}>the same for people (Markdown)</a>
              </p>
            ) : null}
          </>
        )
      ) : null}
    </section>
  );
}
