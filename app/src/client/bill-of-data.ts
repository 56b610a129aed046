// A bill of data: everything on chain behind one model, as a document its builder signs and anyone
// can check against the chain. Built from the usage receipts naming the model's sha256, the
// licences they were recorded under and the datasets licensed; signed by the builder's wallet over
// a canonical encoding (keys sorted, no spaces, integers above 2^53 as decimal strings).
//
// `verifyBillOfData` re-reads every claim and names each that fails, so an edited document (a
// receipt removed or added, a price changed, a use placed outside its licence, another signer) is
// caught by the claim it falsifies. Used by the CLI (`provenance export|verify`) and the dapp.
import { ed25519 } from "@noble/curves/ed25519.js";
import { getAddressEncoder, getBase58Codec, type Account, type Address } from "@solana/kit";

import { fromHex, toHex, utf8 } from "../crypto/bytes.js";
import type { MessageSigner } from "../crypto/buyer-key.js";
import {
  DATA_MARKET_PROGRAM_ADDRESS,
  accountLists,
  datasetRecipients,
  decodeProgramAccount,
  isDefaultAddress,
  type AccountList,
  type Dataset,
  type License,
  type UsageReceipt,
} from "../sdk/index.js";
import type { MarketConnection } from "./connection.js";
import { DATASET_CATEGORIES, USAGE_PURPOSES, nameIn } from "./usage.js";

export const BILL_OF_DATA_FORMAT = "data-market/bill-of-data";
export const BILL_OF_DATA_VERSION = 1;
/** Prefixed to the canonical encoding before signing: the signature can mean nothing else. */
export const BILL_OF_DATA_SIGNING_PREFIX = "data-market: bill of data v1\n";

/** How receipts of a model are listed: from the chain, or the indexer with each answer checked on chain. */
export type ReceiptLister = (list: AccountList<"UsageReceipt">) => Promise<Account<UsageReceipt>[]>;

export interface BillDataset {
  address: Address;
  title: string;
  owner: Address;
  /** sha256 of the plaintext, hex. */
  contentHash: string;
  /** 1 for a first version, n + 1 for the dataset that superseded version n. */
  version: number;
  previousVersion: Address | null;
  category: string;
  metadataUri: string;
  /** Who is paid from each sale (the owner and co-contributors), in basis points. */
  recipients: { wallet: Address; bps: number }[];
}

export interface BillLicence {
  address: Address;
  dataset: Address;
  buyer: Address;
  paymentMint: Address;
  /** Base units of the payment mint, as a decimal string. */
  pricePaid: string;
  refundedAmount: string;
  /** Unix seconds, as decimal strings; `expiresAt` null for a perpetual licence. */
  boughtAt: string;
  expiresAt: string | null;
  terms: {
    durationSecs: string;
    metered: boolean;
    transferable: boolean;
    aiTraining: boolean;
    commercialUse: boolean;
    derivativeModels: boolean;
    attributionRequired: boolean;
  };
}

export interface BillUse {
  receipt: Address;
  dataset: Address;
  licence: Address;
  /** The wallet that recorded the use (the licence holder then). */
  holder: Address;
  purpose: string;
  /** The run id, 32 bytes hex. */
  runId: string;
  attestor: Address | null;
  /** Unix seconds, decimal string. */
  recordedAt: string;
  /** The transaction that created the receipt, and its slot (null where the cluster keeps no history). */
  transaction: string | null;
  slot: string | null;
  /** The licence had been bought and had not expired when the use was recorded. */
  licenceValidAtUse: boolean;
}

/** Where the document's fields sit in the EU template for the public summary of training content. */
export interface EuTrainingContentSummary {
  template: string;
  /** 1.3: the modalities of the licensed data. */
  modalities: string[];
  /** 1.3: the latest date (ISO) data behind the model was acquired (a licence bought). */
  latestAcquisition: string | null;
  /** 2.2.1: datasets commercially licensed from their rightsholders, and 2.2.2: obtained free from third parties. */
  commerciallyLicensedDatasets: Address[];
  otherThirdPartyDatasets: Address[];
  /** Sections this document does not answer: the provider fills them in. */
  notCovered: string[];
}

export interface BillOfData {
  format: typeof BILL_OF_DATA_FORMAT;
  version: typeof BILL_OF_DATA_VERSION;
  program: Address;
  /** The cluster it was exported from, for people (verification reads the cluster it is given). */
  cluster: string;
  model: { sha256: string };
  /** The model builder's wallet, which signs. */
  signer: Address;
  /** Cluster time of the export, unix seconds. */
  exportedAt: string;
  datasets: BillDataset[];
  licences: BillLicence[];
  uses: BillUse[];
  euTrainingContentSummary: EuTrainingContentSummary;
  /** The signer's ed25519 signature (base58) of the prefix and the canonical encoding of all the rest. */
  signature?: string;
}

/** Canonical JSON: object keys sorted by code point, no whitespace; only strings, safe integers, booleans, null, arrays, objects. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`canonical JSON holds safe integers only, not ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new Error(`canonical JSON cannot hold a ${typeof value}`);
}

/** The exact bytes the builder's wallet signs. */
export function billSigningMessage(bill: BillOfData): Uint8Array {
  const { signature: _signature, ...unsigned } = bill;
  return utf8(BILL_OF_DATA_SIGNING_PREFIX + canonicalJson(unsigned));
}

const base58 = getBase58Codec();
const addressEncoder = getAddressEncoder();

export async function signBillOfData(bill: BillOfData, wallet: Pick<MessageSigner, "signMessage">): Promise<BillOfData> {
  const unsigned: BillOfData = { ...bill, signature: undefined };
  const signature = await wallet.signMessage(billSigningMessage(unsigned));
  const signed = { ...unsigned, signature: base58.decode(signature) };
  if (!billSignatureVerifies(signed)) throw new Error("the wallet did not sign the exact bill of data");
  return signed;
}

export function billSignatureVerifies(bill: BillOfData): boolean {
  if (typeof bill.signature !== "string") return false;
  try {
    const signature = base58.encode(bill.signature);
    return ed25519.verify(Uint8Array.from(signature), billSigningMessage(bill), Uint8Array.from(addressEncoder.encode(bill.signer)));
  } catch {
    return false;
  }
}

export const EU_TEMPLATE =
  "Template for the Public Summary of Training Content for general-purpose AI models (AI Act, Article 53(1)(d))";
const EU_NOT_COVERED = [
  "1.1 provider identification",
  "1.2 model name and version (the document names the model by its sha256 only)",
  "1.3 training data size",
  "2.1 publicly available datasets",
  "2.3 data crawled and scraped from online sources",
  "2.4 user data",
  "2.5 synthetic data",
  "2.6 other sources of data",
  "3 data processing aspects (rights reservations, removal of illegal content)",
];

function unix(value: bigint): string {
  return value.toString();
}

function licenceValidAt(licence: Pick<BillLicence, "boughtAt" | "expiresAt">, at: string): boolean {
  const when = BigInt(at);
  return BigInt(licence.boughtAt) <= when && (licence.expiresAt === null || when < BigInt(licence.expiresAt));
}

function billDataset(dataset: Account<Dataset>, version: number): BillDataset {
  const d = dataset.data;
  return {
    address: dataset.address,
    title: d.title,
    owner: d.owner,
    contentHash: toHex(new Uint8Array(d.contentHash)),
    version,
    previousVersion: isDefaultAddress(d.previousVersion) ? null : d.previousVersion,
    category: nameIn(DATASET_CATEGORIES, d.category),
    metadataUri: d.metadataUri,
    recipients: datasetRecipients(d).map((r) => ({ wallet: r.wallet, bps: r.bps })),
  };
}

function billLicence(licence: Account<License>, dataset: Account<Dataset>): BillLicence {
  const l = licence.data;
  const t = dataset.data.terms;
  return {
    address: licence.address,
    dataset: l.dataset,
    buyer: l.buyer,
    paymentMint: dataset.data.paymentMint,
    pricePaid: l.pricePaid.toString(),
    refundedAmount: l.refundedAmount.toString(),
    boughtAt: unix(l.boughtAt),
    expiresAt: l.expiresAt === 0n ? null : unix(l.expiresAt),
    terms: {
      durationSecs: t.durationSecs.toString(),
      metered: t.metered,
      transferable: t.transferable,
      aiTraining: t.aiTraining,
      commercialUse: t.commercialUse,
      derivativeModels: t.derivativeModels,
      attributionRequired: t.attributionRequired,
    },
  };
}

function billUse(receipt: Account<UsageReceipt>, licence: BillLicence, creation: { signature: string; slot: bigint } | null): BillUse {
  const r = receipt.data;
  const recordedAt = unix(r.recordedAt);
  return {
    receipt: receipt.address,
    dataset: r.dataset,
    licence: r.license,
    holder: r.holder,
    purpose: nameIn(USAGE_PURPOSES, r.purpose),
    runId: toHex(new Uint8Array(r.runId)),
    attestor: isDefaultAddress(r.attestor) ? null : r.attestor,
    recordedAt,
    transaction: creation?.signature ?? null,
    slot: creation ? creation.slot.toString() : null,
    licenceValidAtUse: licenceValidAt(licence, recordedAt),
  };
}

async function readProgramAccounts<K extends "Dataset" | "License" | "UsageReceipt">(
  connection: MarketConnection,
  kind: K,
  addresses: readonly Address[],
) {
  const accounts = await connection.getAccounts(addresses);
  return new Map(
    accounts.map((account, i) => {
      if (!account.exists) return [addresses[i]!, null] as const;
      try {
        return [addresses[i]!, decodeProgramAccount(kind, account)] as const;
      } catch {
        return [addresses[i]!, null] as const;
      }
    }),
  );
}

/** The version of each dataset: its position in its version chain (walked back through previousVersion). */
async function datasetVersions(connection: MarketConnection, datasets: readonly Account<Dataset>[]): Promise<Map<Address, number>> {
  const versions = new Map<Address, number>();
  for (const dataset of datasets) {
    let version = 1;
    let previous = dataset.data.previousVersion;
    const seen = new Set<Address>([dataset.address]);
    while (!isDefaultAddress(previous) && !seen.has(previous) && version < 1_000) {
      seen.add(previous);
      const found = (await readProgramAccounts(connection, "Dataset", [previous])).get(previous);
      version += 1;
      if (!found) break;
      previous = found.data.previousVersion;
    }
    versions.set(dataset.address, version);
  }
  return versions;
}

export interface BillProgress {
  (done: number, total: number, what: string): void;
}

/**
 * Everything on chain behind a model, unsigned. `listReceipts` lists the receipts naming the model;
 * each receipt's licence and dataset are read from the chain.
 */
export async function buildBillOfData(options: {
  connection: MarketConnection;
  modelHash: Uint8Array;
  signer: Address;
  listReceipts: ReceiptLister;
  onProgress?: BillProgress;
}): Promise<BillOfData> {
  const { connection, modelHash } = options;
  const receipts = await options.listReceipts(accountLists.receiptsByModelHash(modelHash));
  receipts.sort((a, b) => Number(a.data.recordedAt - b.data.recordedAt) || (a.address < b.address ? -1 : 1));
  const licenceAddresses = [...new Set(receipts.map((r) => r.data.license))];
  const datasetAddresses = [...new Set(receipts.map((r) => r.data.dataset))];
  const licences = await readProgramAccounts(connection, "License", licenceAddresses);
  const datasets = await readProgramAccounts(connection, "Dataset", datasetAddresses);
  const present = [...datasets.values()].filter((d): d is Account<Dataset> => d !== null);
  const versions = await datasetVersions(connection, present);

  const billDatasets: BillDataset[] = [];
  for (const address of datasetAddresses) {
    const dataset = datasets.get(address);
    if (!dataset) throw new Error(`dataset ${address} named by a receipt of this model is no longer on chain`);
    billDatasets.push(billDataset(dataset, versions.get(address) ?? 1));
  }
  const billLicences = new Map<Address, BillLicence>();
  for (const address of licenceAddresses) {
    const licence = licences.get(address);
    if (!licence) throw new Error(`licence ${address} named by a receipt of this model is no longer on chain`);
    billLicences.set(address, billLicence(licence, datasets.get(licence.data.dataset)!));
  }
  const uses: BillUse[] = [];
  for (const receipt of receipts) {
    uses.push(billUse(receipt, billLicences.get(receipt.data.license)!, await connection.firstTransaction(receipt.address)));
    options.onProgress?.(uses.length, receipts.length, "receipts");
  }

  const latest = [...billLicences.values()].reduce<bigint | null>((max, l) => {
    const at = BigInt(l.boughtAt);
    return max === null || at > max ? at : max;
  }, null);
  const paid = (dataset: Address) => [...billLicences.values()].some((l) => l.dataset === dataset && BigInt(l.pricePaid) > 0n);
  return {
    format: BILL_OF_DATA_FORMAT,
    version: BILL_OF_DATA_VERSION,
    program: DATA_MARKET_PROGRAM_ADDRESS,
    cluster: connection.label,
    model: { sha256: toHex(modelHash) },
    signer: options.signer,
    exportedAt: unix(await connection.now()),
    datasets: billDatasets,
    licences: [...billLicences.values()],
    uses,
    euTrainingContentSummary: {
      template: EU_TEMPLATE,
      modalities: [...new Set(billDatasets.map((d) => d.category))].sort(),
      latestAcquisition: latest === null ? null : new Date(Number(latest) * 1000).toISOString(),
      commerciallyLicensedDatasets: datasetAddresses.filter(paid),
      otherThirdPartyDatasets: datasetAddresses.filter((d) => !paid(d)),
      notCovered: EU_NOT_COVERED,
    },
  };
}

/** One claim of the document and whether the chain bears it out. */
export interface ClaimCheck {
  /** What is claimed, e.g. "use 7xKX…" or "signature". */
  claim: string;
  ok: boolean;
  /** Why it fails. */
  problem?: string;
}

export interface BillVerification {
  ok: boolean;
  checks: ClaimCheck[];
  failures: ClaimCheck[];
}

function compareFields(claimed: Record<string, unknown>, actual: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of new Set([...Object.keys(actual), ...Object.keys(claimed)])) {
    const a = canonicalJson(actual[key] ?? null);
    const c = canonicalJson(claimed[key] ?? null);
    if (a !== c) problems.push(`${key} is ${a} on chain, the document says ${c}`);
  }
  return problems;
}

function isBillShape(value: unknown): value is BillOfData {
  const bill = value as BillOfData;
  return (
    typeof value === "object" &&
    value !== null &&
    bill.format === BILL_OF_DATA_FORMAT &&
    bill.version === BILL_OF_DATA_VERSION &&
    typeof bill.signer === "string" &&
    typeof bill.model?.sha256 === "string" &&
    Array.isArray(bill.datasets) &&
    Array.isArray(bill.licences) &&
    Array.isArray(bill.uses)
  );
}

/** Reads a bill of data from its JSON text; null when it is not one. */
export function parseBillOfData(text: string): BillOfData | null {
  try {
    const value: unknown = JSON.parse(text);
    return isBillShape(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Checks every claim of a bill of data against the chain: the signature, that the signer recorded
 * each use, each use, licence and dataset field by field, that each use fell within its licence, and
 * that no receipt of the model on chain is missing from the document.
 */
export async function verifyBillOfData(options: {
  connection: MarketConnection;
  bill: BillOfData;
  listReceipts: ReceiptLister;
  onProgress?: BillProgress;
}): Promise<BillVerification> {
  const { connection, bill } = options;
  const checks: ClaimCheck[] = [];
  const check = (claim: string, problems: string[]) =>
    checks.push(problems.length === 0 ? { claim, ok: true } : { claim, ok: false, problem: problems.join("; ") });

  check(
    "signature",
    billSignatureVerifies(bill) ? [] : [`the signature is not ${bill.signer}'s over this document: it was changed after signing, or signed by another wallet`],
  );
  check("program", bill.program === DATA_MARKET_PROGRAM_ADDRESS ? [] : [`the document is for program ${bill.program}, not ${DATA_MARKET_PROGRAM_ADDRESS}`]);

  const modelHex = bill.model.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(modelHex)) throw new Error(`the document's model hash "${bill.model.sha256}" is not a sha256`);
  const receipts = await readProgramAccounts(connection, "UsageReceipt", bill.uses.map((u) => u.receipt));
  const licences = await readProgramAccounts(connection, "License", bill.licences.map((l) => l.address));
  const datasets = await readProgramAccounts(connection, "Dataset", bill.datasets.map((d) => d.address));
  const presentDatasets = [...datasets.values()].filter((d): d is Account<Dataset> => d !== null);
  const versions = await datasetVersions(connection, presentDatasets);

  for (const claimed of bill.datasets) {
    const dataset = datasets.get(claimed.address);
    check(
      `dataset ${claimed.address}`,
      dataset
        ? compareFields(claimed as unknown as Record<string, unknown>, billDataset(dataset, versions.get(dataset.address) ?? 1) as unknown as Record<string, unknown>)
        : ["no such dataset on chain"],
    );
  }
  const licencesClaimed = new Map(bill.licences.map((l) => [l.address, l]));
  for (const claimed of bill.licences) {
    const licence = licences.get(claimed.address);
    const dataset = licence ? datasets.get(licence.data.dataset) ?? (await readProgramAccounts(connection, "Dataset", [licence.data.dataset])).get(licence.data.dataset) : null;
    check(
      `licence ${claimed.address}`,
      !licence
        ? ["no such licence on chain"]
        : !dataset
          ? [`its dataset ${licence.data.dataset} is not on chain`]
          : compareFields(claimed as unknown as Record<string, unknown>, billLicence(licence, dataset) as unknown as Record<string, unknown>),
    );
  }
  let done = 0;
  for (const claimed of bill.uses) {
    const receipt = receipts.get(claimed.receipt);
    const problems: string[] = [];
    if (!receipt) {
      problems.push("no such usage receipt on chain");
    } else {
      const receiptModel = toHex(new Uint8Array(receipt.data.modelHash));
      if (receiptModel !== modelHex) problems.push(`the receipt names model ${receiptModel}, not ${modelHex}`);
      const licence = licencesClaimed.get(receipt.data.license);
      if (!licence) {
        problems.push(`its licence ${receipt.data.license} is not in the document`);
      } else {
        const actual = billUse(receipt, licence, await connection.firstTransaction(receipt.address));
        // Where the cluster keeps no history the transaction cannot be checked, only the rest.
        if (actual.transaction === null) {
          actual.transaction = claimed.transaction;
          actual.slot = claimed.slot;
        }
        problems.push(...compareFields(claimed as unknown as Record<string, unknown>, actual as unknown as Record<string, unknown>));
      }
      if (!bill.datasets.some((d) => d.address === receipt.data.dataset)) problems.push(`its dataset ${receipt.data.dataset} is not in the document`);
      if (receipt.data.holder !== bill.signer) problems.push(`it was recorded by ${receipt.data.holder}, not by the signer ${bill.signer}`);
    }
    check(`use ${claimed.receipt}`, problems);
    const licence = licencesClaimed.get(claimed.licence);
    if (licence) {
      check(
        `licence ${claimed.licence} valid at use ${claimed.receipt}`,
        licenceValidAt(licence, claimed.recordedAt)
          ? []
          : [
              BigInt(claimed.recordedAt) < BigInt(licence.boughtAt)
                ? `the use (${claimed.recordedAt}) comes before the licence was bought (${licence.boughtAt})`
                : `the licence had expired (${licence.expiresAt}) when the use was recorded (${claimed.recordedAt})`,
            ],
      );
    }
    options.onProgress?.(++done, bill.uses.length, "uses");
  }

  const onChain = await options.listReceipts(accountLists.receiptsByModelHash(fromHex(modelHex)));
  const listed = new Set(bill.uses.map((u) => u.receipt));
  const missing = onChain.filter((r) => !listed.has(r.address)).map((r) => r.address);
  check(
    "every use of the model",
    missing.map((address) => `receipt ${address} of this model is on chain but not in the document`),
  );

  const failures = checks.filter((c) => !c.ok);
  return { ok: failures.length === 0, checks, failures };
}

function isoOf(unixSeconds: string | null): string {
  return unixSeconds === null ? "never" : new Date(Number(unixSeconds) * 1000).toISOString().replace(".000Z", "Z");
}

/** A run id for people: its text when it is printable text padded with zeros, else its hex. */
function runIdForPeople(hex: string): string {
  const bytes = fromHex(hex);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0) return "none";
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(0, end));
  return /^[\x20-\x7e]+$/.test(text) && !bytes.subarray(0, end).includes(0) ? text : hex;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The same document for people, in Markdown. */
export function renderBillMarkdown(bill: BillOfData, formatAmount: (mint: Address, amount: bigint) => string): string {
  const titles = new Map(bill.datasets.map((d) => [d.address, d.title || "(untitled)"]));
  const lines = [
    `# Bill of data for model ${bill.model.sha256}`,
    "",
    `Signed by \`${bill.signer}\` (signature \`${bill.signature ?? "none"}\`); exported from ${bill.cluster} at ${isoOf(bill.exportedAt)}, program \`${bill.program}\`.`,
    `${bill.uses.length} recorded ${bill.uses.length === 1 ? "use" : "uses"} of ${bill.datasets.length} licensed ${bill.datasets.length === 1 ? "dataset" : "datasets"}. Check it with \`data-market provenance verify <file.json>\`.`,
    "",
    "## Datasets",
    "",
    "| Dataset | Owner | Version | Modality | Content sha256 | Paid to |",
    "|---|---|---|---|---|---|",
    ...bill.datasets.map(
      (d) =>
        `| ${cell(d.title || "(untitled)")} \`${d.address}\` | \`${d.owner}\` | ${d.version}${d.previousVersion ? ` (after \`${d.previousVersion}\`)` : ""} | ${d.category} | \`${d.contentHash}\` | ${d.recipients.map((r) => `\`${r.wallet}\` ${r.bps / 100}%`).join(", ")} |`,
    ),
    "",
    "## Licences",
    "",
    "| Licence | Dataset | Buyer | Price paid | Bought | Expires | Terms |",
    "|---|---|---|---|---|---|---|",
    ...bill.licences.map((l) => {
      const terms = [
        l.terms.aiTraining ? "AI training" : "no AI training",
        l.terms.commercialUse ? "commercial use" : "non-commercial",
        l.terms.derivativeModels ? "derivative models" : "no derivative models",
        l.terms.attributionRequired ? "attribution required" : null,
        l.terms.metered ? "metered" : null,
        l.terms.transferable ? "transferable" : "non-transferable",
      ].filter(Boolean);
      return `| \`${l.address}\` | ${cell(titles.get(l.dataset) ?? l.dataset)} | \`${l.buyer}\` | ${formatAmount(l.paymentMint, BigInt(l.pricePaid))}${BigInt(l.refundedAmount) > 0n ? ` (${formatAmount(l.paymentMint, BigInt(l.refundedAmount))} refunded)` : ""} | ${isoOf(l.boughtAt)} | ${isoOf(l.expiresAt)} | ${terms.join(", ")} |`;
    }),
    "",
    "## Uses",
    "",
    "| Recorded | Dataset | Purpose | Run id | Attestor | Slot | Transaction | Licence valid |",
    "|---|---|---|---|---|---|---|---|",
    ...bill.uses.map(
      (u) =>
        `| ${isoOf(u.recordedAt)} | ${cell(titles.get(u.dataset) ?? u.dataset)} | ${u.purpose} | ${cell(runIdForPeople(u.runId))} | ${u.attestor ? `\`${u.attestor}\`` : "none"} | ${u.slot ?? "unknown"} | ${u.transaction ? `\`${u.transaction}\`` : "unknown"} | ${u.licenceValidAtUse ? "yes" : "**no**"} |`,
    ),
    "",
    "## EU summary of training content",
    "",
    `Maps onto the ${EU_TEMPLATE}:`,
    "",
    `- 1.3 modalities: ${bill.euTrainingContentSummary.modalities.join(", ") || "none"}`,
    `- 1.3 latest data acquisition: ${bill.euTrainingContentSummary.latestAcquisition ?? "none"}`,
    `- 2.2.1 datasets commercially licensed from rightsholders: ${bill.euTrainingContentSummary.commerciallyLicensedDatasets.map((a) => cell(titles.get(a) ?? a)).join(", ") || "none"}`,
    `- 2.2.2 private datasets obtained free from other third parties: ${bill.euTrainingContentSummary.otherThirdPartyDatasets.map((a) => cell(titles.get(a) ?? a)).join(", ") || "none"}`,
    `- Not covered here (the provider completes them): ${bill.euTrainingContentSummary.notCovered.join("; ")}`,
    "",
  ];
  return lines.join("\n");
}
