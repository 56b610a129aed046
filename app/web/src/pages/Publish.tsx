// Publishing a dataset from the browser: the form (every field the program registers), then
// publish/flow.ts (the CLI's checks, metadata and registration from client/publish-core.ts around a
// worker that encrypts into OPFS and an upload to the Kubo RPC endpoint).
import { useRef, useState, type FormEvent, type ReactNode } from "react";
import { isAddress, type Address } from "@solana/kit";

import {
  ListingInputError,
  checkPublishInput,
  fetchMintInfo,
  formatDuration,
  licenseTerms,
  parseAmount,
  parseDuration,
  type DatasetListing,
  type ListingField,
  type MintInfo,
} from "../../../src/client/universal.js";
import {
  BPS_DENOMINATOR,
  DatasetCategory,
  MAX_DELIVERY_WINDOW_SECS,
  MAX_DISPUTE_WINDOW_SECS,
  MAX_RECIPIENTS,
  MAX_TAGS,
  MAX_TITLE_LEN,
  TAG_LEN,
  type RecipientArgs,
} from "../../../src/sdk/index.js";
import { explainForPeople } from "../errors.js";
import { CATEGORY_NAMES } from "../format.js";
import { useMarket } from "../market.js";
import { CannotSignMessagesError, publishFromBrowser, type BrowserPublishResult, type PublishStep } from "../publish/flow.js";
import { useMarketWallet } from "../wallet.js";

const CANNOT_SIGN_MESSAGES =
  "Publishing needs your wallet to sign one message: your own copy of the dataset's key is sealed to a key derived from that signature, so that you (and only you) can deliver it to buyers later, from any device. This wallet cannot sign messages (hardware wallets such as Ledger often cannot). Use a wallet that can, for example a software wallet holding the same or another account.";

const OTHER_MINT = "other";

interface Contributor {
  key: number;
  wallet: string;
  share: string;
}

interface Draft {
  title: string;
  description: string;
  category: string;
  tags: string;
  price: string;
  mintChoice: string;
  mintAddress: string;
  duration: string;
  maxSupply: string;
  metered: boolean;
  transferable: boolean;
  aiTraining: boolean;
  commercialUse: boolean;
  derivativeModels: boolean;
  attributionRequired: boolean;
  referral: string;
  contributors: Contributor[];
  deliveryWindow: string;
  disputeWindow: string;
  allowList: boolean;
  previous: string;
}

/** A field's input id and the name people see, for the error list. */
const FIELDS = {
  file: ["publish-file", "Dataset file"],
  title: ["publish-title", "Title"],
  tags: ["publish-tags", "Tags"],
  price: ["publish-price", "Price"],
  mint: ["publish-mint-address", "Mint address"],
  duration: ["publish-duration", "Licence duration"],
  maxSupply: ["publish-max-supply", "Maximum licences outstanding"],
  referral: ["publish-referral", "Referral fee for front-ends (%)"],
  contributors: ["contributor-0-wallet", "Co-contributors"],
  deliveryWindow: ["publish-delivery-window", "Delivery window"],
  disputeWindow: ["publish-dispute-window", "Dispute window"],
  previous: ["publish-previous", "Previous version"],
} as const;
type Field = keyof typeof FIELDS;
type FieldErrors = Partial<Record<Field, string>>;

const FROM_LISTING: Record<ListingField, Field> = {
  title: "title",
  tags: "tags",
  deliveryWindowSecs: "deliveryWindow",
  disputeWindowSecs: "disputeWindow",
  terms: "duration",
  referralFeeBps: "referral",
  recipients: "contributors",
  delegate: "contributors",
};

function sentence(text: string): string {
  const t = text.trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".");
}

/** "12.5" (%) as basis points, or null. */
function percentToBps(text: string): number | null {
  const match = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
}

type Step = { kind: "idle" } | { kind: "working"; step: PublishStep } | { kind: "done"; result: BrowserPublishResult } | { kind: "failed"; message: string };

/** The form starts from the client's default terms. */
const { metered, transferable, aiTraining, commercialUse, derivativeModels, attributionRequired } = licenseTerms();
const DEFAULT_TERM_SWITCHES = { metered, transferable, aiTraining, commercialUse, derivativeModels, attributionRequired };

export function Publish() {
  const { config, connection, health, refresh } = useMarket();
  const { connected, marketWallet, canSignMessage } = useMarketWallet();
  const tokens = Object.entries(config.tokens);
  const [draft, setDraft] = useState<Draft>({
    title: "",
    description: "",
    category: String(DatasetCategory.Other),
    tags: "",
    price: "",
    mintChoice: tokens[0]?.[0] ?? OTHER_MINT,
    mintAddress: "",
    duration: "0",
    maxSupply: "0",
    ...DEFAULT_TERM_SWITCHES,
    referral: "0",
    contributors: [],
    deliveryWindow: "1d",
    disputeWindow: "1d",
    allowList: false,
    previous: "",
  });
  const [file, setFile] = useState<File | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const summaryRef = useRef<HTMLDivElement>(null);
  const nextKey = useRef(1);
  const marketplace = health.status === "ready" ? health.marketplace : null;
  const busy = step.kind === "working";

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const setContributor = (key: number, change: Partial<Contributor>) =>
    set("contributors", draft.contributors.map((c) => (c.key === key ? { ...c, ...change } : c)));

  /** The listing from the form, or the errors by field. */
  async function readForm(owner: Address): Promise<{ listing: DatasetListing } | { errors: FieldErrors }> {
    const e: FieldErrors = {};
    if (!file) e.file = "choose the file to publish";
    const mintText = draft.mintChoice === OTHER_MINT ? draft.mintAddress.trim() : draft.mintChoice;
    let mint: MintInfo | null = null;
    if (!isAddress(mintText)) e.mint = mintText === "" ? "enter the payment token's mint address" : "not a Solana address";
    else {
      try {
        mint = await fetchMintInfo(connection, mintText);
      } catch {
        e.mint = "no token mint at this address on this cluster";
      }
    }
    let price = 0n;
    if (draft.price.trim() === "") e.price = "enter a price (0 for a free dataset)";
    else if (mint) {
      try {
        price = parseAmount(draft.price, mint.decimals);
      } catch (error) {
        e.price = error instanceof Error ? error.message : String(error);
      }
    }
    const duration = (field: Field, text: string): number => {
      try {
        return parseDuration(text);
      } catch (error) {
        e[field] = error instanceof Error ? error.message : String(error);
        return 0;
      }
    };
    const durationSecs = duration("duration", draft.duration);
    const deliveryWindowSecs = duration("deliveryWindow", draft.deliveryWindow);
    const disputeWindowSecs = duration("disputeWindow", draft.disputeWindow);
    const maxSupply = Number(draft.maxSupply.trim());
    if (!/^\d+$/.test(draft.maxSupply.trim()) || maxSupply > 2 ** 32 - 1) e.maxSupply = "a whole number, 0 for no limit";
    const referralFeeBps = percentToBps(draft.referral);
    if (referralFeeBps === null) e.referral = "a percentage such as 0, 2 or 2.5";
    else if (marketplace && referralFeeBps > marketplace.maxReferralFeeBps) e.referral = `at most ${marketplace.maxReferralFeeBps / 100} % on this marketplace`;
    const tags = draft.tags.split(",").map((t) => t.trim()).filter((t) => t !== "");
    let recipients: RecipientArgs[] | undefined;
    if (draft.contributors.length > 0) {
      const others: RecipientArgs[] = [];
      for (const [i, c] of draft.contributors.entries()) {
        const bps = percentToBps(c.share);
        if (!isAddress(c.wallet.trim())) e.contributors ??= `co-contributor ${i + 1}: the wallet is not a Solana address`;
        else if (bps === null || bps === 0) e.contributors ??= `co-contributor ${i + 1}: the share must be a percentage above 0, such as 25 or 12.5`;
        else others.push({ wallet: c.wallet.trim() as Address, bps });
      }
      const ownerBps = BPS_DENOMINATOR - others.reduce((sum, r) => sum + r.bps, 0);
      if (!e.contributors && ownerBps < 0) e.contributors = "the co-contributors' shares add up to more than 100 %";
      recipients = ownerBps > 0 ? [{ wallet: owner, bps: ownerBps }, ...others] : others;
    }
    let previousVersion: Address | undefined;
    if (draft.previous.trim() !== "") {
      if (isAddress(draft.previous.trim())) previousVersion = draft.previous.trim() as Address;
      else e.previous = "not a dataset address";
    }
    const listing: DatasetListing = {
      title: draft.title.trim(),
      description: draft.description.trim(),
      category: Number(draft.category) as DatasetCategory,
      tags,
      price,
      paymentMint: mintText as Address,
      terms: licenseTerms({
        durationSecs,
        maxSupply,
        metered: draft.metered,
        transferable: draft.transferable,
        aiTraining: draft.aiTraining,
        commercialUse: draft.commercialUse,
        derivativeModels: draft.derivativeModels,
        attributionRequired: draft.attributionRequired,
      }),
      referralFeeBps: referralFeeBps ?? 0,
      recipients,
      deliveryWindowSecs,
      disputeWindowSecs,
      allowListEnabled: draft.allowList,
      previousVersion,
    };
    // The program's own bounds, as the CLI checks them (it stops at the first, so one more at most).
    try {
      if (marketplace) checkPublishInput(listing, owner, marketplace);
    } catch (error) {
      if (!(error instanceof ListingInputError)) throw error;
      e[FROM_LISTING[error.field]] ??= error.message;
    }
    return Object.keys(e).length > 0 ? { errors: e } : { listing };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!marketWallet || !marketplace || busy) return;
    const owner = marketWallet.signer.address;
    setStep({ kind: "working", step: { phase: "key" } });
    const form = await readForm(owner);
    const showErrors = (found: FieldErrors) => {
      setErrors(found);
      setStep({ kind: "idle" });
      setTimeout(() => summaryRef.current?.focus());
    };
    if ("errors" in form) return showErrors(form.errors);
    setErrors({});
    try {
      const result = await publishFromBrowser({
        connection,
        owner: marketWallet,
        policy: marketplace,
        ipfsApi: config.ipfsApi,
        file: file!,
        listing: form.listing,
        onStep: (s) => setStep({ kind: "working", step: s }),
      });
      setStep({ kind: "done", result });
      refresh();
    } catch (error) {
      if (error instanceof ListingInputError) return showErrors({ [FROM_LISTING[error.field]]: error.message });
      if (error instanceof CannotSignMessagesError) return setStep({ kind: "failed", message: CANNOT_SIGN_MESSAGES });
      setStep({ kind: "failed", message: explainForPeople(error, { rpcUrl: connection.url, action: "publish" }).message });
    }
  }

  if (health.status === "problem") {
    return <Page><p>Publishing is off until the settings point at a cluster where this program runs (see the message at the top).</p></Page>;
  }
  if (!connected) return <Page><p>Connect a wallet (top of the page) to publish: it pays the fees and owns the dataset.</p></Page>;
  if (!canSignMessage) return <Page><p role="note">{CANNOT_SIGN_MESSAGES}</p></Page>;
  if (step.kind === "done") return <Page><Published result={step.result} /></Page>;

  const errorList = Object.entries(errors) as [Field, string][];
  const field = (name: Field) => ({
    id: FIELDS[name][0],
    "aria-invalid": errors[name] ? true : undefined,
    "aria-describedby": [errors[name] ? `${FIELDS[name][0]}-error` : "", `${FIELDS[name][0]}-hint`].join(" ").trim(),
    disabled: busy,
  });
  const fieldError = (name: Field) =>
    errors[name] ? <span id={`${FIELDS[name][0]}-error`} className="error field-error">{sentence(errors[name]!)}</span> : null;
  const hint = (name: Field, text: ReactNode) => <span id={`${FIELDS[name][0]}-hint`} className="hint">{text}</span>;
  const minDelivery = marketplace ? formatDuration(marketplace.minDeliveryWindowSecs) : "…";
  const minDispute = marketplace ? formatDuration(marketplace.minDisputeWindowSecs) : "…";
  const checkbox = (key: "metered" | "transferable" | "aiTraining" | "commercialUse" | "derivativeModels" | "attributionRequired" | "allowList", label: string) => (
    <label className="check">
      <input type="checkbox" checked={draft[key]} onChange={(e) => set(key, e.target.checked)} disabled={busy} /> {label}
    </label>
  );

  return (
    <Page>
      <div ref={summaryRef} tabIndex={-1} aria-live="assertive">
        {errorList.length > 0 ? (
          <div role="alert" className="error banner">
            <p>Nothing was sent. Please correct:</p>
            <ul>
              {errorList.map(([name, message]) => (
                <li key={name}>
                  <a href={`#${FIELDS[name][0]}`} onClick={(e) => { e.preventDefault(); document.getElementById(FIELDS[name][0])?.focus(); }}>
                    {FIELDS[name][1]}
                  </a>
                  : {sentence(message)}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </div>
      <form className="publish" onSubmit={submit} noValidate>
        <fieldset>
          <legend>The data</legend>
          <label htmlFor="publish-file">Dataset file</label>
          <input type="file" {...field("file")} onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
          {hint("file", "Encrypted in this browser before it leaves it; any size (it is processed piece by piece).")}
          {fieldError("file")}
          <label htmlFor="publish-title">Title</label>
          <input type="text" {...field("title")} value={draft.title} onChange={(e) => set("title", e.target.value)} />
          {hint("title", `Shown to buyers and on the licence token; at most ${MAX_TITLE_LEN} bytes.`)}
          {fieldError("title")}
          <label htmlFor="publish-description">Description</label>
          <textarea id="publish-description" rows={3} value={draft.description} onChange={(e) => set("description", e.target.value)} disabled={busy} />
          <label htmlFor="publish-category">Category</label>
          <select id="publish-category" value={draft.category} onChange={(e) => set("category", e.target.value)} disabled={busy}>
            {Object.entries(CATEGORY_NAMES).map(([value, name]) => <option key={value} value={value}>{name}</option>)}
          </select>
          <label htmlFor="publish-tags">Tags</label>
          <input type="text" {...field("tags")} value={draft.tags} onChange={(e) => set("tags", e.target.value)} />
          {hint("tags", `Separated by commas; at most ${MAX_TAGS}, of ${TAG_LEN} bytes each.`)}
          {fieldError("tags")}
        </fieldset>

        <fieldset>
          <legend>Price and payment</legend>
          <label htmlFor="publish-price">Price</label>
          <input type="text" inputMode="decimal" {...field("price")} value={draft.price} onChange={(e) => set("price", e.target.value)} />
          {hint("price", draft.metered ? "Per credit (one recorded use); 0 for free." : "Per licence; 0 for free.")}
          {fieldError("price")}
          <label htmlFor="publish-mint">Payment token</label>
          <select id="publish-mint" value={draft.mintChoice} onChange={(e) => set("mintChoice", e.target.value)} disabled={busy}>
            {tokens.map(([mint, symbol]) => <option key={mint} value={mint}>{symbol} ({mint})</option>)}
            <option value={OTHER_MINT}>Another token (enter its mint address)</option>
          </select>
          {draft.mintChoice === OTHER_MINT ? (
            <>
              <label htmlFor="publish-mint-address">Mint address</label>
              <input type="text" {...field("mint")} value={draft.mintAddress} onChange={(e) => set("mintAddress", e.target.value)} />
              {hint("mint", "An SPL Token or Token-2022 mint on this cluster.")}
            </>
          ) : null}
          {fieldError("mint")}
        </fieldset>

        <fieldset>
          <legend>Licence terms</legend>
          {checkbox("aiTraining", "Training AI models allowed")}
          {checkbox("commercialUse", "Commercial use allowed")}
          {checkbox("derivativeModels", "Publishing models derived from the data allowed")}
          {checkbox("attributionRequired", "Attribution required")}
          {checkbox("transferable", "The licence token can be transferred")}
          {checkbox("metered", "Sold as credits: the price is per recorded use")}
          <label htmlFor="publish-duration">Licence duration</label>
          <input type="text" {...field("duration")} value={draft.duration} onChange={(e) => set("duration", e.target.value)} />
          {hint("duration", "From the key's delivery, e.g. 30d or 12h; 0 for a licence that never expires; at most 10 years.")}
          {fieldError("duration")}
          <label htmlFor="publish-max-supply">Maximum licences outstanding</label>
          <input type="text" inputMode="numeric" {...field("maxSupply")} value={draft.maxSupply} onChange={(e) => set("maxSupply", e.target.value)} />
          {hint("maxSupply", "At once; 0 for no limit.")}
          {fieldError("maxSupply")}
        </fieldset>

        <fieldset>
          <legend>Revenue</legend>
          <label htmlFor="publish-referral">Referral fee for front-ends (%)</label>
          <input type="text" inputMode="decimal" {...field("referral")} value={draft.referral} onChange={(e) => set("referral", e.target.value)} />
          {hint("referral", `Paid to a registered front-end that brings a sale; at most ${(marketplace?.maxReferralFeeBps ?? 0) / 100} % on this marketplace.`)}
          {fieldError("referral")}
          <p id="contributors-hint" className="hint">
            Co-contributors get a share of every sale (up to {MAX_RECIPIENTS - 1}); you get the rest.
          </p>
          {draft.contributors.map((c, i) => (
            <div key={c.key} className="contributor" role="group" aria-label={`Co-contributor ${i + 1}`}>
              <label htmlFor={`contributor-${i}-wallet`}>Co-contributor {i + 1} wallet</label>
              <input id={`contributor-${i}-wallet`} type="text" value={c.wallet} onChange={(e) => setContributor(c.key, { wallet: e.target.value })} disabled={busy} aria-invalid={errors.contributors ? true : undefined} />
              <label htmlFor={`contributor-${i}-share`}>Co-contributor {i + 1} share (%)</label>
              <input id={`contributor-${i}-share`} type="text" inputMode="decimal" value={c.share} onChange={(e) => setContributor(c.key, { share: e.target.value })} disabled={busy} />
              <button type="button" onClick={() => set("contributors", draft.contributors.filter((o) => o.key !== c.key))} disabled={busy}>
                Remove co-contributor {i + 1}
              </button>
            </div>
          ))}
          {fieldError("contributors")}
          {draft.contributors.length < MAX_RECIPIENTS - 1 ? (
            <button type="button" onClick={() => set("contributors", [...draft.contributors, { key: nextKey.current++, wallet: "", share: "" }])} disabled={busy}>
              Add a co-contributor
            </button>
          ) : null}
        </fieldset>

        <fieldset>
          <legend>Delivery and disputes</legend>
          <label htmlFor="publish-delivery-window">Delivery window</label>
          <input type="text" {...field("deliveryWindow")} value={draft.deliveryWindow} onChange={(e) => set("deliveryWindow", e.target.value)} />
          {hint("deliveryWindow", `Time you have to deliver the key after a sale before the buyer may be refunded: at least ${minDelivery} (this marketplace's minimum), at most ${formatDuration(MAX_DELIVERY_WINDOW_SECS)}. E.g. 90s, 30m, 1h, 7d.`)}
          {fieldError("deliveryWindow")}
          <label htmlFor="publish-dispute-window">Dispute window</label>
          <input type="text" {...field("disputeWindow")} value={draft.disputeWindow} onChange={(e) => set("disputeWindow", e.target.value)} />
          {hint("disputeWindow", `Time after delivery the buyer may dispute, before you are paid: at least ${minDispute} (this marketplace's minimum), at most ${formatDuration(MAX_DISPUTE_WINDOW_SECS)}.`)}
          {fieldError("disputeWindow")}
          {checkbox("allowList", "Only allow-listed buyers may buy (you add them after publishing)")}
          <label htmlFor="publish-previous">Previous version (dataset address)</label>
          <input type="text" {...field("previous")} value={draft.previous} onChange={(e) => set("previous", e.target.value)} />
          {hint("previous", "Optional: your dataset this one replaces.")}
          {fieldError("previous")}
        </fieldset>

        <p>
          Publishing asks your wallet twice: to sign a fixed message (free; your copy of the dataset's key is sealed to a key
          derived from it, kept in this page's memory only), then to approve the registration, which pays the network fee and
          the rent of the dataset's accounts in SOL.
        </p>
        <button type="submit" disabled={busy || !marketWallet || !marketplace}>Publish</button>
      </form>
      <Progress step={step} />
      {step.kind === "failed" ? <p role="alert" className="error">{step.message}</p> : null}
    </Page>
  );
}

function Page({ children }: { children: ReactNode }) {
  return (
    <section aria-labelledby="publish-title-heading">
      <h1 id="publish-title-heading">Publish a dataset</h1>
      {children}
    </section>
  );
}

const MB = 1e6;

function Progress({ step }: { step: Step }) {
  if (step.kind !== "working") return <div aria-live="polite" />;
  const s = step.step;
  const bar = (label: string, done: number, total: number) => (
    <>
      <label htmlFor="publish-progress">{label}</label>
      <progress id="publish-progress" max={Math.max(total, 1)} value={done}>{Math.round((done / Math.max(total, 1)) * 100)} %</progress>{" "}
      <span>{(done / MB).toFixed(1)} of {(total / MB).toFixed(1)} MB</span>
    </>
  );
  return (
    <div aria-live="polite" className="publish-progress">
      {s.phase === "key" ? <p>Waiting for your wallet to sign the key message…</p> : null}
      {s.phase === "encrypt" ? bar("Encrypting and hashing in this browser", s.done, s.total) : null}
      {s.phase === "upload" ? bar("Uploading the encrypted file to IPFS", s.done, s.total) : null}
      {s.phase === "metadata" ? <p>Storing the description and your sealed copy of the key on IPFS…</p> : null}
      {s.phase === "register" ? <p>Waiting for your wallet to approve the registration, then for the cluster to confirm it…</p> : null}
    </div>
  );
}

function Published({ result }: { result: BrowserPublishResult }) {
  return (
    <div role="status" className="success">
      <p>
        Published. Your dataset is <a href={`#/dataset/${result.dataset}`}><code>{result.dataset}</code></a>{" "}
        (transaction <code>{result.signature}</code>).
      </p>
      <dl className="breakdown">
        <dt>Content sha256</dt>
        <dd><code>{result.contentHash}</code></dd>
        <dt>Encrypted file</dt>
        <dd><code>{result.ciphertextCid}</code> ({(result.ciphertextBytes / MB).toFixed(1)} MB)</dd>
        <dt>Metadata</dt>
        <dd><code>{result.metadataUri}</code></dd>
      </dl>
      <p className="muted" data-testid="speeds">
        Encrypted and hashed at {result.encryptMBps.toFixed(1)} MB/s, uploaded at {result.uploadMBps.toFixed(1)} MB/s.
      </p>
      <p>
        Buyers' keys are delivered by you: run <code>data-market deliver --watch</code> with this wallet (or name a delivery
        delegate). <a href={`#/dataset/${result.dataset}`}>Open the dataset's page</a>.
      </p>
    </div>
  );
}
