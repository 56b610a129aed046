// Which copy of a dataset's content key a delivery daemon opens, decided by the SDK alone: the owner's
// copy for the owner, a delegate's grant only while the chain names that delegate, a grant given by
// CID only when its key opens the ciphertext, and a clear refusal otherwise. The datasets are plain
// objects and IPFS is a map in memory; the chain is covered by cli-delegate.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import type { Account, Address } from "@solana/kit";

import {
  DELIVERY_GRANT_FORMAT,
  fitsInOneTransaction,
  licenseTerms,
  METADATA_FORMAT,
  MetadataError,
  NoKeyCopyError,
  checkDeliveryGrant,
  describeMetadataGrants,
  encodeSealedKey,
  loadDeliveryGrants,
  metadataUri,
  openDeliveryKey,
  readDelegateCard,
  sealDeliveryGrant,
  type DatasetMetadata,
  type DeliveryGrant,
  type MarketWallet,
  type SuppliedGrant,
} from "../src/client/index.js";
import { generateKeyPairSigner } from "@solana/kit";
import { encryptStream, generateContentKey, sealContentKey } from "../src/crypto/index.js";
import {
  DEFAULT_ADDRESS,
  DatasetCategory,
  TOKEN_PROGRAM_ADDRESS,
  registerDatasetInstruction,
  updateDatasetInstruction,
  type Dataset,
} from "../src/sdk/index.js";
import { collect, pieces, random } from "./helpers.js";
import { MemoryStore, randomWallet } from "./memory-store.js";


interface World {
  store: MemoryStore;
  owner: MarketWallet;
  delegate: MarketWallet;
  contentKey: Uint8Array;
  ciphertextCid: string;
}

async function world(): Promise<World> {
  const store = new MemoryStore(40);
  const contentKey = generateContentKey();
  const ciphertextCid = store.put(await collect(encryptStream(pieces(random(3000)), contentKey, { chunkSize: 256 })));
  return { store, owner: await randomWallet(), delegate: await randomWallet(), contentKey, ciphertextCid };
}

const DATASET = "Dataset1111111111111111111111111111111111111" as Address;

/** A dataset account with the fields delivery reads, and its metadata on the store. */
async function dataset(w: World, options: { delegate?: Address; grants?: DeliveryGrant[] }): Promise<Account<Dataset>> {
  const metadata: DatasetMetadata = {
    format: METADATA_FORMAT,
    name: "License: t",
    symbol: "DLIC",
    title: "t",
    description: "",
    fileName: "t.bin",
    plaintextBytes: 3000,
    sha256: "00".repeat(32),
    ciphertextCid: w.ciphertextCid,
    ciphertextBytes: 0,
    chunkSize: 256,
    ownerSealedKey: encodeSealedKey(await sealContentKey(w.contentKey, (await w.owner.encryptionKeyPair()).publicKey)),
    ...(options.grants ? { deliveryGrants: options.grants } : {}),
  };
  const data = {
    owner: w.owner.signer.address,
    deliveryDelegate: options.delegate ?? DEFAULT_ADDRESS,
    metadataUri: metadataUri(await w.store.addJson(metadata)),
    ciphertextCid: w.ciphertextCid,
  } as unknown as Dataset;
  return { address: DATASET, data } as Account<Dataset>;
}

async function grantFor(w: World, who: MarketWallet, key = w.contentKey): Promise<DeliveryGrant> {
  return sealDeliveryGrant(key, DATASET, readDelegateCard(await who.delegateCard()));
}

async function refusal(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof NoKeyCopyError, `expected NoKeyCopyError, got ${String(error)}`);
    assert.equal(error.kind, "refused");
    assert.match(error.message, pattern);
    return true;
  });
}

describe("which copy of the key a delivery daemon opens", () => {
  test("the owner opens its own copy", async () => {
    const w = await world();
    const d = await dataset(w, {});
    const { contentKey, copy } = await openDeliveryKey(w.store, w.owner, d);
    assert.deepEqual(contentKey, w.contentKey);
    assert.deepEqual(copy, { kind: "owner" });
  });

  test("the named delegate opens its grant in the metadata; the same grant is ignored once it is removed or replaced", async () => {
    const w = await world();
    const grants = [await grantFor(w, w.delegate)];
    const named = await dataset(w, { delegate: w.delegate.signer.address, grants });
    const { contentKey, copy } = await openDeliveryKey(w.store, w.delegate, named);
    assert.deepEqual(contentKey, w.contentKey);
    assert.deepEqual(copy, { kind: "metadata-grant" });
    assert.deepEqual(describeMetadataGrants(named, null), { current: null, former: [] });

    const removed = await dataset(w, { grants });
    await refusal(openDeliveryKey(w.store, w.delegate, removed), /may not deliver .*names no delivery delegate any more/);
    const successor = await randomWallet();
    const replaced = await dataset(w, { delegate: successor.signer.address, grants });
    await refusal(openDeliveryKey(w.store, w.delegate, replaced), new RegExp(`its delivery delegate is now ${successor.signer.address}`));
    // The successor cannot use the former delegate's copy either: it needs its own grant.
    await refusal(openDeliveryKey(w.store, successor, replaced), /holds neither the owner's copy of its key nor a grant of its own: ask the owner/);
    // A grant naming the delegate but sealed to some other key is not its copy.
    const misdirected = await sealDeliveryGrant(w.contentKey, DATASET, {
      wallet: w.delegate.signer.address,
      encryptionKey: (await successor.encryptionKeyPair()).publicKey,
    });
    const mixedUp = await dataset(w, { delegate: w.delegate.signer.address, grants: [misdirected] });
    await refusal(openDeliveryKey(w.store, w.delegate, mixedUp), /\(the grants found are sealed to another encryption key\)/);
  });

  test("a grant given by CID is used only when its key opens the dataset's ciphertext", async () => {
    const w = await world();
    const named = await dataset(w, { delegate: w.delegate.signer.address });
    const good: SuppliedGrant = { cid: "bafkgood", grant: await grantFor(w, w.delegate) };
    const { contentKey, copy } = await openDeliveryKey(w.store, w.delegate, named, [good]);
    assert.deepEqual(contentKey, w.contentKey);
    assert.deepEqual(copy, { kind: "grant", cid: "bafkgood" });

    // Anyone can seal some key to the delegate's public key; the commitment check catches it.
    const forged: SuppliedGrant = { cid: "bafkforged", grant: await grantFor(w, w.delegate, generateContentKey()) };
    await refusal(openDeliveryKey(w.store, w.delegate, named, [forged]), /grant bafkforged holds a key that does not open the ciphertext/);
    // A grant for another dataset, or another delegate, is not this dataset's copy.
    const elsewhere: SuppliedGrant = { cid: "bafkother", grant: { ...good.grant, dataset: "Other11111111111111111111111111111111111111" } };
    await refusal(openDeliveryKey(w.store, w.delegate, named, [elsewhere]), /holds neither the owner's copy of its key nor a grant of its own: ask the owner to run `data-market dataset delegate/);
  });

  test("a delegate with no copy at all is refused with what to do", async () => {
    const w = await world();
    const named = await dataset(w, { delegate: w.delegate.signer.address });
    await refusal(
      openDeliveryKey(w.store, w.delegate, named),
      new RegExp(`dataset ${DATASET} names ${w.delegate.signer.address} delivery delegate, but this wallet holds neither .* pass the grant CID it prints with --grant`),
    );
    const stranger = await randomWallet();
    await refusal(openDeliveryKey(w.store, stranger, named), /may not deliver for dataset/);
  });
});

describe("delivery grant documents", () => {
  test("a grant is checked field by field; a malformed one in the metadata is skipped, not fatal", async () => {
    const w = await world();
    const grant = await grantFor(w, w.delegate);
    assert.equal(grant.format, DELIVERY_GRANT_FORMAT);
    assert.deepEqual(Object.keys(grant).sort(), ["dataset", "delegate", "encryptionKey", "format", "sealedKey"]);
    assert.deepEqual(checkDeliveryGrant(JSON.parse(JSON.stringify(grant)), "g"), grant);
    for (const broken of [
      null,
      { ...grant, format: "data-market/delivery-grant/v2" },
      { ...grant, delegate: "not-an-address" },
      { ...grant, encryptionKey: "AB".repeat(32) },
      { ...grant, sealedKey: Buffer.alloc(95).toString("base64") },
      { ...grant, sealedKey: undefined },
    ]) {
      assert.throws(() => checkDeliveryGrant(broken, "g"), MetadataError);
    }
    const named = await dataset(w, {
      delegate: w.delegate.signer.address,
      grants: [{ ...grant, sealedKey: "!!" }, grant],
    });
    assert.deepEqual((await openDeliveryKey(w.store, w.delegate, named)).contentKey, w.contentKey);
  });

  test("grants given by CID are read from IPFS; a missing or foreign file is one clear error", async () => {
    const w = await world();
    const grant = await grantFor(w, w.delegate);
    const cid = await w.store.addJson(grant);
    assert.deepEqual(await loadDeliveryGrants(w.store, [cid]), [{ cid, grant }]);
    await assert.rejects(loadDeliveryGrants(w.store, ["bafkmissing"]), (e: unknown) => {
      assert.match(String(e), /the delivery grant bafkmissing is not available on IPFS/);
      return true;
    });
    await assert.rejects(loadDeliveryGrants(w.store, [w.ciphertextCid]), (e: unknown) => {
      assert.match(String(e), /is not JSON/);
      return true;
    });
    const notAGrant = await w.store.addJson({ hello: "world" });
    await assert.rejects(loadDeliveryGrants(w.store, [notAGrant]), /is not a data-market\/delivery-grant\/v1/);
  });

  test("the card names the wallet the grant is for", async () => {
    const w = await world();
    const identity = readDelegateCard(await w.delegate.delegateCard());
    assert.equal(identity.wallet, w.delegate.signer.address);
    assert.deepEqual(identity.encryptionKey, (await w.delegate.encryptionKeyPair()).publicKey);
    assert.throws(() => readDelegateCard(w.delegate.signer.address), /not a valid delegate card: .*`data-market wallet card`/);
  });
});

describe("naming the delegate at publication", () => {
  test("it joins the registration's transaction unless the registration is near the size limit", async () => {
    const owner = await generateKeyPairSigner();
    const mint = (await generateKeyPairSigner()).address;
    const registration = async (largest: boolean) => {
      const recipients = largest
        ? [{ wallet: owner.address, bps: 2000 }, ...(await Promise.all([1, 2, 3, 4].map(async () => ({ wallet: (await generateKeyPairSigner()).address, bps: 2000 }))))]
        : [{ wallet: owner.address, bps: 10_000 }];
      return registerDatasetInstruction({
        owner,
        paymentMint: mint,
        paymentTokenProgram: TOKEN_PROGRAM_ADDRESS,
        contentHash: random(32),
        title: largest ? "x".repeat(64) : "Support chats",
        // a metadata URI and a ciphertext CID as publish writes them, or the longest the program takes
        metadataUri: largest ? `ipfs://${"b".repeat(89)}` : "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        ciphertextCid: largest ? "b".repeat(64) : "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        category: DatasetCategory.Text,
        tags: largest ? ["t", "u", "v", "w", "y"].map((c) => c.repeat(24)) : ["chat"],
        price: 10n,
        terms: licenseTerms(),
        referralFeeBps: 0,
        recipients,
        deliveryWindowSecs: 3600,
        disputeWindowSecs: 3600,
        previousVersion: largest ? mint : undefined,
      });
    };
    const naming = await updateDatasetInstruction({ owner, dataset: mint, deliveryDelegate: mint });
    assert.equal(fitsInOneTransaction(owner, [await registration(false), naming]), true);
    assert.equal(fitsInOneTransaction(owner, [await registration(true)]), true);
    assert.equal(fitsInOneTransaction(owner, [await registration(true), naming]), false);
  });
});
