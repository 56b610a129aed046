// The owner dashboard: the connected wallet's datasets (sales, revenue, what it can claim), the keys
// it owes buyers, delivered from this page with the client layer's delivery pass, and the
// management the program offers an owner (price, allow-list, lifecycle, close).
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { isAddress, type Account, type Address, type Instruction } from "@solana/kit";

import { deliverPendingKeys, formatDuration, parseAmount, type DeliveryEvent } from "../../../src/client/universal.js";
import {
  DatasetState,
  IndexerClient,
  LicenseState,
  accountLists,
  buildAddToAllowList,
  buildClaimRevenue,
  buildCloseDataset,
  buildRemoveFromAllowList,
  buildSetDatasetState,
  buildSettleLicense,
  buildSweepProtocolFees,
  buildUpdateDataset,
  claimableBy,
  listAccounts,
  searchAllDatasets,
  type Dataset,
  type License,
  type PendingDelivery,
} from "../../../src/sdk/index.js";
import { trustlessCatStore } from "../../../src/storage/trustless-reader.js";
import { explainForPeople, explainOwnerAction, isWalletRejection } from "../errors.js";
import { STATE_NAMES, countdown, shortAddress } from "../format.js";
import { useClusterNow, useMint, useTokenAmount } from "../hooks.js";
import { useMarket } from "../market.js";
import { useMarketWallet } from "../wallet.js";

interface OwnedDataset {
  dataset: Account<Dataset>;
  licenses: Account<License>[];
}

const CANNOT_SIGN_MESSAGES =
  "Delivering needs your wallet to sign one message: your copy of each dataset's key is sealed to a key derived from that signature, and only it opens the copy. This wallet cannot sign messages (hardware wallets such as Ledger often cannot). Deliver with a wallet that can and holds the same account, or with the command line (data-market deliver).";

/** The states an owner may move a dataset to from `from` (the program's rule: Retired and Revoked are final). */
function ownerTargets(from: DatasetState): DatasetState[] {
  const listed = [DatasetState.Active, DatasetState.OrderingPaused, DatasetState.Unlisted];
  if (listed.includes(from)) return [...listed.filter((s) => s !== from), DatasetState.Deprecated, DatasetState.Retired];
  if (from === DatasetState.Deprecated) return [DatasetState.Retired];
  return [];
}

/** Moving there cannot be undone. */
const FINAL_STEPS = new Set([DatasetState.Deprecated, DatasetState.Retired]);

/** Settled-or-pending payments: what buyers paid for licences that were not refunded. */
function salesRevenue(licenses: Account<License>[]): bigint {
  return licenses.reduce((sum, l) => (l.data.state === LicenseState.Refunded ? sum : sum + l.data.pricePaid), 0n);
}

function settleable(licenses: Account<License>[], dataset: Dataset, now: number | null): Account<License>[] {
  if (now === null) return [];
  return licenses.filter(
    (l) => l.data.state === LicenseState.Delivered && Number(l.data.deliveredAt + BigInt(dataset.disputeWindowSecs)) <= Math.floor(now),
  );
}

/** What the program's close_dataset waits for, in words (empty: it can close). */
function closeBlockers(d: Dataset, amount: (a: bigint) => string): string[] {
  const blockers: string[] = [];
  if (d.licensesPending > 0) blockers.push(`${d.licensesPending} licence(s) waiting for a key, a settlement or a refund`);
  if (d.openDisputes > 0) blockers.push(`${d.openDisputes} open dispute(s)`);
  if (d.allowListEntries > 0) blockers.push(`${d.allowListEntries} allow-list entr${d.allowListEntries === 1 ? "y" : "ies"} (remove them)`);
  const claimable = d.ledger.claimable.reduce((sum, owed) => sum + owed, 0n);
  if (claimable > 0n) blockers.push(`${amount(claimable)} of revenue not claimed yet`);
  if (d.ledger.referralFeesOwed > 0n) blockers.push(`${amount(d.ledger.referralFeesOwed)} of referral fees not claimed yet`);
  if (d.ledger.protocolFeesOwed > 0n) blockers.push(`${amount(d.ledger.protocolFeesOwed)} of protocol fees not swept to the treasury yet`);
  return blockers;
}

type Status = { kind: "idle" } | { kind: "busy"; message: string } | { kind: "done"; message: string } | { kind: "failed"; message: string };
/** Which part of a dataset's card an action belongs to: its outcome is shown there. */
type Part = "money" | "manage";

/** One action at a time per panel: a wallet approval, then the cluster's confirmation. */
function useAction() {
  const { connection, refresh } = useMarket();
  const { marketWallet, sendsItself } = useMarketWallet();
  const [status, setStatus] = useState<Status>({ kind: "idle" });
  const [part, setPart] = useState<Part>("money");
  async function run(action: string, build: () => Promise<Instruction[][]>, done: string, where: Part = "manage"): Promise<boolean> {
    if (!marketWallet) return false;
    setPart(where);
    setStatus({ kind: "busy", message: `${action}: waiting for your wallet to approve${sendsItself ? "" : " (this page then sends it)"}, then for the cluster to confirm…` });
    let landed = 0;
    try {
      const batches = await build();
      for (const instructions of batches) {
        await connection.send(marketWallet.signer, instructions);
        landed += 1;
      }
      setStatus({ kind: "done", message: done });
      refresh();
      return true;
    } catch (error) {
      setStatus({ kind: "failed", message: explainOwnerAction(error, { rpcUrl: connection.url, action }).message });
      // Earlier transactions of a batched action did land: show them.
      if (landed > 0) refresh();
      return false;
    }
  }
  const fail = (message: string) => {
    setPart("manage");
    setStatus({ kind: "failed", message });
  };
  return { status: (where: Part) => (where === part ? status : ({ kind: "idle" } as Status)), run, fail, busy: status.kind === "busy", signer: marketWallet?.signer ?? null };
}

function StatusLine({ status }: { status: Status }) {
  return (
    <>
      <div aria-live="polite">
        {status.kind === "busy" ? <p>{status.message}</p> : null}
        {status.kind === "done" ? <p role="status" className="success">{status.message}</p> : null}
      </div>
      {status.kind === "failed" ? <p role="alert" className="error">{status.message}</p> : null}
    </>
  );
}

/** A button that asks once more, in the page, before a step that cannot be undone. */
function ConfirmButton({ label, question, confirm, disabled, onConfirm }: { label: string; question: string; confirm: string; disabled?: boolean; onConfirm(): void }) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking) {
    return <button type="button" disabled={disabled} onClick={() => setAsking(true)}>{label}</button>;
  }
  return (
    <span role="group" aria-label={question} className="confirm">
      <span>{question}</span>{" "}
      <button type="button" ref={yes} onClick={() => { setAsking(false); onConfirm(); }}>{confirm}</button>
      <button type="button" onClick={() => setAsking(false)}>Cancel</button>
    </span>
  );
}

export function Owner() {
  const { connection, discovery, config, health, revision } = useMarket();
  const { connected } = useMarketWallet();
  const [datasets, setDatasets] = useState<OwnedDataset[] | null>(null);
  const [pending, setPending] = useState<PendingDelivery[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Said after the card it is about is gone (a closed dataset). */
  const [notice, setNotice] = useState<string | null>(null);
  const now = useClusterNow();
  const owner = (connected?.account.address ?? null) as Address | null;

  useEffect(() => {
    if (!owner || health.status !== "ready") return;
    let current = true;
    setError(null);
    (async () => {
      const indexer = config.indexerUrl ? new IndexerClient(config.indexerUrl) : null;
      const [found, waiting] = await Promise.all([
        searchAllDatasets(discovery, { owner, state: "any", sort: "newest" }),
        discovery.pendingDeliveries(owner),
      ]);
      const rows = await Promise.all(
        found.datasets.map(async (dataset) => ({
          dataset,
          licenses: (await listAccounts(accountLists.licensesByDataset(dataset.address), { chain: connection, indexer })).accounts,
        })),
      );
      if (!current) return;
      setDatasets(rows);
      setPending([...waiting.pending].sort((a, b) => Number(a.license.data.boughtAt - b.license.data.boughtAt)));
    })().catch((e: unknown) => current && setError(explainForPeople(e, { rpcUrl: connection.url }).message));
    return () => {
      current = false;
    };
  }, [connection, discovery, config.indexerUrl, owner, health.status, revision]);

  return (
    <section aria-labelledby="owner-title">
      <h1 id="owner-title">My datasets</h1>
      {!owner ? <p>Connect a wallet to see the datasets it owns.</p> : null}
      {error ? <p role="alert" className="error">{error}</p> : null}
      {owner && datasets === null && !error ? <p>Loading…</p> : null}
      <div aria-live="polite">{notice ? <p role="status" className="success">{notice}</p> : null}</div>
      {owner && pending ? <PendingDeliveries pending={pending} now={now} /> : null}
      {owner && datasets?.length === 0 ? <p>This wallet owns no dataset yet (publish one with <code>data-market dataset publish</code>).</p> : null}
      {owner && datasets && datasets.length > 0 ? (
        <section aria-labelledby="owned-title">
          <h2 id="owned-title">Datasets</h2>
          {datasets.map((row) => (
            <DatasetCard key={row.dataset.address} row={row} owner={owner} now={now} onClosed={setNotice} />
          ))}
        </section>
      ) : null}
    </section>
  );
}

function PendingDeliveries({ pending, now }: { pending: PendingDelivery[]; now: number | null }) {
  const { connection, discovery, config, refresh } = useMarket();
  const { marketWallet, canSignMessage } = useMarketWallet();
  const [status, setStatus] = useState<Status>({ kind: "idle" });
  const [events, setEvents] = useState<DeliveryEvent[]>([]);

  async function deliver() {
    if (!marketWallet || !config.ipfsGateway) return;
    setEvents([]);
    setStatus({ kind: "busy", message: "Waiting for your wallet to sign the key message…" });
    try {
      try {
        await marketWallet.encryptionKeyPair();
      } catch (error) {
        if (isWalletRejection(error)) throw error;
        setStatus({ kind: "failed", message: CANNOT_SIGN_MESSAGES });
        return;
      }
      setStatus({ kind: "busy", message: "Delivering: approve each key's transaction in your wallet…" });
      const pass = await deliverPendingKeys(connection, trustlessCatStore(config.ipfsGateway), marketWallet, (event) => setEvents((all) => [...all, event]), {
        discovery,
      });
      const parts = [`${pass.delivered} delivered`];
      if (pass.missed) parts.push(`${pass.missed} past the delivery window`);
      if (pass.failed) parts.push(`${pass.failed} failed`);
      if (pass.refused) parts.push(`${pass.refused} without a copy of the key`);
      setStatus(pass.failed + pass.refused > 0 ? { kind: "failed", message: `Keys: ${parts.join(", ")}. See each one below.` } : { kind: "done", message: `Keys: ${parts.join(", ")}.` });
      refresh();
    } catch (error) {
      setStatus({ kind: "failed", message: explainOwnerAction(error, { rpcUrl: connection.url, action: "The delivery" }).message });
    }
  }

  return (
    <section aria-labelledby="pending-title">
      <h2 id="pending-title">Keys owed to buyers</h2>
      {pending.length === 0 ? (
        <p>No buyer is waiting for a key.</p>
      ) : (
        <table>
          <caption className="visually-hidden">Licences waiting for their key</caption>
          <thead>
            <tr>
              <th scope="col">Dataset</th>
              <th scope="col">Buyer</th>
              <th scope="col">Deliver by</th>
            </tr>
          </thead>
          <tbody>
            {pending.map(({ license, dataset }) => {
              const deadline = license.data.boughtAt + BigInt(dataset.data.deliveryWindowSecs);
              const left = now === null ? null : countdown(deadline, now);
              return (
                <tr key={license.address} data-licence={license.address}>
                  <td><a href={`#/dataset/${dataset.address}`}>{dataset.data.title || "(untitled)"}</a></td>
                  <td><code title={license.data.buyer}>{shortAddress(license.data.buyer)}</code></td>
                  <td>
                    {new Date(Number(deadline) * 1000).toISOString().replace(".000Z", "Z").replace("T", " ")}
                    {now === null ? null : left ? ` (${left} left)` : " (overdue: the buyer can claim a refund)"}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {pending.length > 0 ? (
        !canSignMessage ? (
          <p role="note">{CANNOT_SIGN_MESSAGES}</p>
        ) : !config.ipfsGateway ? (
          <p role="note">Delivering reads each dataset's metadata, where your sealed copy of its key is, from IPFS: set an IPFS gateway in the settings.</p>
        ) : (
          <>
            <p>
              Delivering asks your wallet to sign the key message once (your copy of each key opens with it, in this page's memory only), then to
              approve one transaction per buyer: the key sealed to that buyer alone.
            </p>
            <button type="button" onClick={deliver} disabled={!marketWallet || status.kind === "busy"}>
              Deliver {pending.length === 1 ? "the key" : `${pending.length} keys`}
            </button>
          </>
        )
      ) : null}
      <StatusLine status={status} />
      {events.length > 0 ? (
        <ul aria-label="Deliveries">
          {events.map((e) => (
            <li key={e.license}>
              {shortAddress(e.buyer)}: {e.kind === "delivered" ? <>delivered (transaction <code>{e.signature}</code>)</> : `${e.kind}: ${e.reason}`}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function DatasetCard({ row, owner, now, onClosed }: { row: OwnedDataset; owner: Address; now: number | null; onClosed(notice: string): void }) {
  const { dataset, licenses } = row;
  const d = dataset.data;
  const ids = useId();
  const { connection } = useMarket();
  const amount = useTokenAmount(d.paymentMint)!;
  const mint = useMint(d.paymentMint);
  const { status, run, fail, busy, signer } = useAction();
  const [price, setPrice] = useState("");
  const [buyer, setBuyer] = useState("");
  const targets = ownerTargets(d.state);
  const [picked, setPicked] = useState<string>("");
  // The choice is kept only while the program still allows it from the current state.
  const target = targets.some((s) => String(s) === picked) ? picked : targets[0] === undefined ? "" : String(targets[0]);
  const claimable = claimableBy(d, owner);
  const toSettle = settleable(licenses, d, now);
  const title = d.title || "(untitled)";
  const blockers = closeBlockers(d, amount);

  const updatePrice = (event: FormEvent) => {
    event.preventDefault();
    if (!signer || !mint) return;
    let newPrice: bigint;
    try {
      newPrice = parseAmount(price, mint.decimals);
    } catch (error) {
      return fail(`The price is not valid: ${error instanceof Error ? error.message : String(error)}.`);
    }
    void run("The price update", async () => [await buildUpdateDataset({ owner: signer, dataset: dataset.address, price: newPrice })], `The price is now ${amount(newPrice)}.`);
  };

  const changeAllowList = (add: boolean) => {
    if (!signer) return;
    const who = buyer.trim();
    if (!isAddress(who)) return fail(`"${who}" is not a Solana wallet address.`);
    const build = add ? buildAddToAllowList : buildRemoveFromAllowList;
    void run("The allow-list change", async () => [await build({ owner: signer, dataset: dataset.address, buyer: who })], add ? `${who} may now buy.` : `${who} is off the allow-list.`);
  };

  const changeState = () => {
    if (!signer || target === "") return;
    const state = Number(target) as DatasetState;
    void run("The state change", async () => [await buildSetDatasetState({ owner: signer, dataset: dataset.address, state })], `The dataset is now: ${STATE_NAMES[state]}.`);
  };

  const targetState = target === "" ? null : (Number(target) as DatasetState);

  return (
    <article aria-labelledby={`${ids}-title`} className="owned" data-dataset={dataset.address}>
      <h3 id={`${ids}-title`}><a href={`#/dataset/${dataset.address}`}>{title}</a></h3>
      <dl className="stats">
        <dt>State</dt>
        <dd data-testid="state">{STATE_NAMES[d.state]}</dd>
        <dt>Price</dt>
        <dd data-testid="price">{d.price === 0n ? "Free" : amount(d.price)}{d.terms.metered ? " per use" : ""}</dd>
        <dt>Windows</dt>
        <dd>Keys delivered within {formatDuration(d.deliveryWindowSecs)} of a purchase; disputes possible for {formatDuration(d.disputeWindowSecs)} after delivery</dd>
        <dt>Licences sold</dt>
        <dd data-testid="sales">{d.licensesSold.toString()}</dd>
        <dt>Sales revenue</dt>
        <dd data-testid="revenue">{amount(salesRevenue(licenses))} <span className="muted">(paid by buyers, refunds left out, before fees)</span></dd>
        <dt>In escrow</dt>
        <dd>{amount(d.ledger.escrowed)} <span className="muted">(until each licence settles)</span></dd>
        <dt>You can claim now</dt>
        <dd data-testid="claimable">{amount(claimable)}</dd>
      </dl>
      <p>
        <button type="button" disabled={busy || !signer || claimable === 0n} onClick={() => run("The claim", async () => [await buildClaimRevenue(connection, { recipient: signer!, dataset: dataset.address })], `Claimed ${amount(claimable)} to your token account.`, "money")}>
          Claim {amount(claimable)}
        </button>
      </p>
      {toSettle.length > 0 ? (
        <p>
          {toSettle.length === 1 ? "One licence is" : `${toSettle.length} licences are`} past the dispute window: settling moves the payment to the
          revenue ledger (anyone may settle).{" "}
          <button
            type="button"
            disabled={busy || !signer}
            onClick={() =>
              run(
                "The settlement",
                async () => {
                  const instructions = await Promise.all(toSettle.map((l) => buildSettleLicense(connection, { caller: signer!, license: l.address })));
                  // A few per transaction keeps each one well under the size limit.
                  const batches: Instruction[][] = [];
                  for (let i = 0; i < instructions.length; i += 4) batches.push(instructions.slice(i, i + 4).flat());
                  return batches;
                },
                `Settled ${toSettle.length === 1 ? "one licence" : `${toSettle.length} licences`}.`,
                "money",
              )
            }
          >
            Settle {toSettle.length === 1 ? "the licence" : `${toSettle.length} licences`}
          </button>
        </p>
      ) : null}
      <StatusLine status={status("money")} />

      <details>
        <summary>Manage {title}</summary>
        <form onSubmit={updatePrice} aria-label={`Price of ${title}`}>
          <label htmlFor={`${ids}-price`}>New price{mint ? "" : " (loading the token…)"}</label>
          <input id={`${ids}-price`} inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} disabled={busy} />{" "}
          <button type="submit" disabled={busy || !signer || !mint || price.trim() === ""}>Update the price</button>
        </form>

        <h4>Lifecycle</h4>
        {targets.length === 0 ? (
          <p>{d.state === DatasetState.Revoked ? "The marketplace operator revoked this dataset: its state cannot change." : "Retired is final."}</p>
        ) : (
          <p>
            <label htmlFor={`${ids}-state`}>Move to</label>
            <select id={`${ids}-state`} value={target} onChange={(e) => setPicked(e.target.value)} disabled={busy}>
              {targets.map((s) => (
                <option key={s} value={s}>{STATE_NAMES[s]}</option>
              ))}
            </select>{" "}
            {targetState !== null && FINAL_STEPS.has(targetState) ? (
              <ConfirmButton
                label="Change the state"
                question={`${STATE_NAMES[targetState]} cannot be undone${targetState === DatasetState.Retired ? ": no more sales, ever" : ": sales stop and the dataset can only be retired afterwards"}. Go ahead?`}
                confirm={`Yes, make it ${STATE_NAMES[targetState].toLowerCase()}`}
                disabled={busy || !signer}
                onConfirm={changeState}
              />
            ) : (
              <button type="button" onClick={changeState} disabled={busy || !signer}>Change the state</button>
            )}
          </p>
        )}

        <h4>Allow-list</h4>
        <p>
          {d.allowListEnabled ? "Only wallets on the allow-list may buy." : "Anyone may buy; the allow-list is off."} Entries: {d.allowListEntries}.{" "}
          <button
            type="button"
            disabled={busy || !signer}
            onClick={() =>
              run("The allow-list switch", async () => [await buildUpdateDataset({ owner: signer!, dataset: dataset.address, allowListEnabled: !d.allowListEnabled })], d.allowListEnabled ? "The allow-list is off: anyone may buy." : "The allow-list is on.")
            }
          >
            Turn the allow-list {d.allowListEnabled ? "off" : "on"}
          </button>
        </p>
        <p>
          <label htmlFor={`${ids}-buyer`}>Buyer's wallet address</label>
          <input id={`${ids}-buyer`} value={buyer} onChange={(e) => setBuyer(e.target.value)} disabled={busy} size={44} />{" "}
          <button type="button" onClick={() => changeAllowList(true)} disabled={busy || !signer || buyer.trim() === ""}>Allow</button>
          <button type="button" onClick={() => changeAllowList(false)} disabled={busy || !signer || buyer.trim() === ""}>Remove</button>
        </p>

        <h4>Title and metadata</h4>
        <p className="muted">
          The title, description and metadata URI are fixed at registration: the program offers no instruction to change them. Publish a new
          version instead (<code>data-market dataset publish --previous {dataset.address}</code> with the other options).
        </p>

        <h4>Close</h4>
        {d.state === DatasetState.Retired || d.state === DatasetState.Revoked ? (
          <>
            <p>Closing returns the accounts' rent to you once nothing is owed.</p>
            {blockers.length > 0 ? (
              <ul aria-label="What keeps the dataset open">
                {blockers.map((b) => <li key={b}>{b}</li>)}
              </ul>
            ) : null}
            {d.ledger.protocolFeesOwed > 0n ? (
              <p>
                <button
                  type="button"
                  disabled={busy || !signer}
                  onClick={() => run("The sweep", async () => [await buildSweepProtocolFees(connection, { caller: signer!, dataset: dataset.address })], `Swept ${amount(d.ledger.protocolFeesOwed)} to the marketplace's treasury.`)}
                >
                  Sweep the protocol fees ({amount(d.ledger.protocolFeesOwed)}) to the treasury
                </button>{" "}
                <span className="muted">(anyone may; the fees are the marketplace's, not yours)</span>
              </p>
            ) : null}
            <ConfirmButton
              label="Close the dataset"
              question="Closing removes the dataset from the chain for good. Go ahead?"
              confirm="Yes, close it"
              disabled={busy || !signer}
              onConfirm={() =>
                void run("Closing the dataset", async () => [await buildCloseDataset(connection, { owner: signer!, dataset: dataset.address })], "The dataset is closed.").then(
                  (closed) => closed && onClosed(`${title} is closed; the rent of its accounts is back in your wallet.`),
                )
              }
            />
          </>
        ) : (
          <p className="muted">A dataset can be closed once it is retired and nothing is owed.</p>
        )}
        <StatusLine status={status("manage")} />
      </details>
    </article>
  );
}
