// Delivery by a delegate, on the real program (embedded SVM) and a real embedded IPFS node: the
// delegate prints its card, the owner names it (at publication, or later with a grant by CID) and
// goes offline, the delegate's daemon delivers with its own copy of the key, and the buyer downloads
// the exact bytes. Then rotation and removal (the old copy is no longer used, and the program refuses
// the old delegate), a forged grant, a daemon holding no copy, and the user mistakes.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address, getAddressEncoder, type Address } from "@solana/kit";

import {
  DATASET_DELIVERY_DELEGATE_OFFSET,
  TransactionFailedError,
  checkDeliveryCoverage,
  datasetsByDelegate,
  deliverPendingKeys,
  downloadDataset,
  keypairWallet,
  licenseTerms,
  publishDataset,
  buyLicense,
  readDelegateCard,
  loadDeliveryGrants,
  readMetadata,
  sealDeliveryGrant,
  setDeliveryDelegate,
  watchDeliveries,
  type DeliveryEvent,
} from "../src/client/index.js";
import { generateContentKey } from "../src/crypto/index.js";
import { EXIT } from "../src/cli/failure.js";
import { USDC } from "../src/localnet/provision.js";
import {
  DEFAULT_ADDRESS,
  DatasetCategory,
  LicenseState,
  buildDeliverKey,
  fetchDataset,
  fetchLicense,
  findDatasets,
  findLicenseAddress,
} from "../src/sdk/index.js";
import { CliWorld, assertRefusal, type CliRun, type Party } from "./cli-harness.js";

const MiB = 1024 * 1024;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

describe("delivery by a delegate", () => {
  let world: CliWorld;
  let usdc: Address;

  const state = async (license: Address) => (await fetchLicense(world.connection, license)).data.state;
  const card = async (party: Party) => {
    const shown = await world.json<{ card: string; address: string; encryptionKey: string }>(party, ["wallet", "card"]);
    assert.equal(shown.address, party.wallet.signer.address);
    return shown.card;
  };
  const publish = async (owner: Party, name: string, bytes: number, extra: string[] = []) => {
    const path = join(world.dir, name);
    const content = randomBytes(bytes);
    await writeFile(path, content);
    const published = await world.json<{ dataset: string; delegate?: string; delegateSignature?: string }>(owner, [
      "dataset", "publish", path, "--title", name, "--price", "2", "--mint", usdc, ...extra,
    ]);
    return { dataset: address(published.dataset), published, content };
  };
  const buy = async (buyer: Party, dataset: Address) => {
    const run = await world.run(buyer, ["license", "buy", dataset, "--max-price", "2"]);
    assert.equal(run.code, 0, run.stderr);
    return findLicenseAddress(dataset, buyer.wallet.signer.address);
  };

  before(async () => {
    world = await CliWorld.start();
    usdc = world.market.usdc.address;
  });

  after(async () => world.stop());

  test("named at publication: the owner goes offline, the delegate's daemon delivers, the buyer gets the exact bytes", async () => {
    const owner = await world.party("offline-owner");
    const delegate = await world.party("hosted-delegate");
    const buyer = await world.party("delegate-buyer", 10n * USDC);

    const delegateCard = await card(delegate);
    const human = await world.run(delegate, ["wallet", "card"]);
    assert.equal(human.stdout.split("\n")[0], delegateCard, "the card is the first line, ready to copy");

    const { dataset, published, content } = await publish(owner, "hosted.jsonl", 3 * MiB + 321, ["--delegate", delegateCard]);
    assert.equal(published.delegate, delegate.wallet.signer.address);
    assert.equal(published.delegateSignature, undefined, "named in the registration's own transaction");
    const { data } = await fetchDataset(world.connection, dataset);
    assert.equal(data.deliveryDelegate, delegate.wallet.signer.address);
    // The delegate filter finds it at the offset the SDK computes.
    const raw = (await world.connection.getAccounts([dataset]))[0]!;
    assert.ok(raw.exists);
    assert.deepEqual(
      [...raw.data.subarray(DATASET_DELIVERY_DELEGATE_OFFSET, DATASET_DELIVERY_DELEGATE_OFFSET + 32)],
      [...getAddressEncoder().encode(delegate.wallet.signer.address)],
    );
    assert.deepEqual((await findDatasets(world.connection, datasetsByDelegate(delegate.wallet.signer.address))).map((d) => d.address), [dataset]);
    const metadata = await readMetadata(world.store, data.metadataUri);
    assert.deepEqual(metadata.deliveryGrants?.map((g) => [g.dataset, g.delegate]), [[dataset, delegate.wallet.signer.address]]);
    const shown = await world.run(buyer, ["dataset", "show", dataset]);
    assert.match(shown.stdout, new RegExp(`delegate +${delegate.wallet.signer.address} \\(its copy of the key is in the metadata\\)`));
    assert.doesNotMatch(shown.stdout, /sealedKey/);

    // The owner is offline from here on: its keypair file is gone.
    await rm(owner.keypairPath);
    const license = await buy(buyer, dataset);

    const abort = new AbortController();
    const daemon = world.run(delegate, ["deliver", "--watch", "--interval", "1s"], { signal: abort.signal });
    for (let i = 0; i < 600 && (await state(license)) !== LicenseState.Delivered; i++) await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    const watched = await daemon;
    assert.equal(watched.code, 0, watched.stderr);
    assert.equal(watched.stdout.trim(), `delivered licence ${license} to ${buyer.wallet.signer.address}`);
    assert.match(watched.stderr, new RegExp(`delivering for dataset ${dataset} as its delivery delegate, with the grant in its metadata`));

    const output = join(world.dir, "hosted.out");
    const downloaded = await world.json<{ sha256: string; plaintextBytes: number }>(buyer, ["download", dataset, "-o", output]);
    const bytes = await readFile(output);
    assert.equal(downloaded.sha256, sha256(content));
    assert.equal(sha256(bytes), sha256(content));
    assert.equal(bytes.length, content.length);
  });

  test("named later: a grant by CID; without it the daemon refuses; rotation and removal retire the old copy", async () => {
    const owner = world.owner;
    const first = await world.party("first-delegate");
    const second = await world.party("second-delegate");
    const buyers: Party[] = [];
    for (const name of ["b1", "b2", "b3"]) buyers.push(await world.party(`later-${name}`, 10n * USDC));
    const { dataset, content } = await publish(owner, "later.bin", 700_000);
    const l1 = await buy(buyers[0]!, dataset);

    const named = await world.json<{ delegate: string; previous: string | null; grantCid: string; signature: string }>(owner, [
      "dataset", "delegate", dataset, await card(first),
    ]);
    assert.equal(named.delegate, first.wallet.signer.address);
    assert.equal(named.previous, null);
    assert.match(named.grantCid, /^bafk/);
    // Run again, it sends nothing and issues a fresh grant (another random seal of the same key).
    const again = await world.run(owner, ["dataset", "delegate", dataset, await card(first)]);
    assert.match(again.stdout, /\(already named on chain\)/);
    assert.match(again.stdout, /the delegate runs: data-market deliver --watch --grant bafk\w+/);

    // Without the grant the delegate holds neither copy: a clear refusal, nothing delivered.
    const without = await world.run(first, ["deliver"]);
    assertRefusal(without, EXIT.refused, /holds no copy of the content key of any dataset it may deliver for: it owns none, and holds no usable copy for the 1 that name it delivery delegate/);
    assert.match(without.stderr, new RegExp(`cannot deliver for dataset ${dataset}: .*holds neither the owner's copy of its key nor a grant of its own: ask the owner to run`));
    assert.equal(await state(l1), LicenseState.AwaitingKey);

    const withGrant = await world.run(first, ["deliver", "--grant", named.grantCid]);
    assert.equal(withGrant.code, 0, withGrant.stderr);
    assert.match(withGrant.stderr, new RegExp(`with grant ${named.grantCid}`));
    assert.match(withGrant.stdout, new RegExp(`delivered licence ${l1}`));
    const output = join(world.dir, "later.out");
    assert.equal((await world.run(buyers[0]!, ["download", dataset, "-o", output])).code, 0);
    assert.equal(sha256(await readFile(output)), sha256(content));

    // Rotation: the second delegate replaces the first, whose grant is then ignored.
    const rotated = await world.json<{ previous: string; grantCid: string }>(owner, ["dataset", "delegate", dataset, await card(second)]);
    assert.equal(rotated.previous, first.wallet.signer.address);
    const l2 = await buy(buyers[1]!, dataset);
    const stale = await world.run(first, ["deliver", "--grant", named.grantCid]);
    assertRefusal(stale, EXIT.refused, /holds no copy of the content key/);
    assert.match(stale.stderr, new RegExp(`ignoring grant ${named.grantCid}: dataset ${dataset} does not name this wallet delivery delegate \\(any more\\)`));
    assert.equal(await state(l2), LicenseState.AwaitingKey);
    // Whatever its tooling does, the program refuses the former delegate.
    const sealedKey = new Uint8Array(96).fill(1);
    await assert.rejects(
      world.connection.send(first.wallet.signer, await buildDeliverKey(world.connection, { deliverer: first.wallet.signer, license: l2, sealedKey })),
      (e: unknown) => e instanceof TransactionFailedError && e.errorName === "NotDeliveryAuthority",
    );
    const current = await world.run(second, ["deliver", "--grant", rotated.grantCid]);
    assert.equal(current.code, 0, current.stderr);
    assert.match(current.stdout, new RegExp(`delivered licence ${l2}`));

    // Removal: the delegate can no longer deliver; the owner still can.
    const removed = await world.json<{ removed: string }>(owner, ["dataset", "delegate", dataset, "--remove"]);
    assert.equal(removed.removed, second.wallet.signer.address);
    assert.equal((await fetchDataset(world.connection, dataset)).data.deliveryDelegate, DEFAULT_ADDRESS);
    const l3 = await buy(buyers[2]!, dataset);
    const gone = await world.run(second, ["deliver", "--grant", rotated.grantCid]);
    assertRefusal(gone, EXIT.refused, /holds no copy/);
    assert.equal(await state(l3), LicenseState.AwaitingKey);
    assertRefusal(await world.run(owner, ["dataset", "delegate", dataset, "--remove"]), EXIT.refused, /names no delivery delegate/);
    const byOwner = await world.run(owner, ["deliver"]);
    assert.equal(byOwner.code, 0, byOwner.stderr);
    assert.match(byOwner.stdout, new RegExp(`delivered licence ${l3}`));
    const shown = await world.run(owner, ["dataset", "show", dataset]);
    assert.match(shown.stdout, /delegate +none/);
  });

  test("a forged grant is refused before anything is delivered; `dataset update --delegate` issues a real one", async () => {
    const delegate = await world.party("updated-delegate");
    const buyer = await world.party("forged-buyer", 10n * USDC);
    const { dataset } = await publish(world.owner, "forged.bin", 300_000);
    const delegateCard = await card(delegate);
    const updated = await world.json<{ delegate: string; grantCid: string }>(world.owner, [
      "dataset", "update", dataset, "--delegate", delegateCard, "--price", "2",
    ]);
    assert.equal(updated.delegate, delegate.wallet.signer.address);
    const license = await buy(buyer, dataset);

    // Anyone can seal some key to the delegate's public key and hand over the CID.
    const forged = await sealDeliveryGrant(generateContentKey(), dataset, readDelegateCard(delegateCard));
    const forgedCid = await world.store.addJson(forged);
    const refused = await world.run(delegate, ["deliver", "--grant", forgedCid]);
    assertRefusal(refused, EXIT.refused, /holds no copy/);
    assert.match(refused.stderr, new RegExp(`grant ${forgedCid} holds a key that does not open the ciphertext of dataset ${dataset}`));
    assert.equal(await state(license), LicenseState.AwaitingKey);

    const delivered = await world.run(delegate, ["deliver", "--grant", forgedCid, "--grant", updated.grantCid]);
    assert.equal(delivered.code, 0, delivered.stderr);
    assert.match(delivered.stdout, new RegExp(`delivered licence ${license}`));
  });

  test("through the SDK: publish with a delegate, the delegate's pass, the buyer's download", async () => {
    const listing = (title: string) => ({
      title,
      category: DatasetCategory.Text,
      tags: [],
      price: 1_000_000n,
      paymentMint: usdc,
      terms: licenseTerms(),
      deliveryWindowSecs: 3600,
      disputeWindowSecs: 3600,
    });
    const owner = keypairWallet((await world.party("sdk-owner")).wallet);
    const delegate = keypairWallet((await world.party("sdk-delegate")).wallet);
    const buyer = keypairWallet((await world.party("sdk-buyer", 10n * USDC)).wallet);
    const file = join(world.dir, "sdk.bin");
    const content = randomBytes(1 * MiB + 5);
    await writeFile(file, content);
    const published = await publishDataset(world.connection, world.store, owner, {
      file,
      ...listing("SDK delegate"),
      delegate: readDelegateCard(await delegate.delegateCard()),
    });
    assert.equal(published.delegate, delegate.signer.address);
    const coverage = await checkDeliveryCoverage(world.connection, world.store, delegate);
    assert.deepEqual(
      coverage.datasets.map((d) => [d.dataset, d.role, d.copy]),
      [[published.dataset, "delegate", { kind: "metadata-grant" }]],
    );
    await buyLicense(world.connection, buyer, { dataset: published.dataset, maxPrice: 1_000_000n });
    const pass = await deliverPendingKeys(world.connection, world.store, delegate);
    assert.deepEqual([pass.delivered, pass.missed, pass.failed, pass.refused], [1, 0, 0, 0]);
    const again = await deliverPendingKeys(world.connection, world.store, delegate);
    assert.equal(again.delivered, 0);
    const output = join(world.dir, "sdk.out");
    const downloaded = await downloadDataset(world.connection, world.store, buyer, { dataset: published.dataset, output });
    assert.equal(downloaded.sha256, sha256(content));
    assert.ok((await readFile(output)).equals(content));

    // A second dataset names the delegate later; its grant is not handed over. The daemon keeps
    // serving the first dataset and reports the second's licence once, not on every pass.
    const later = join(world.dir, "sdk-later.bin");
    await writeFile(later, randomBytes(10_000));
    const second = await publishDataset(world.connection, world.store, owner, {
      file: later,
      ...listing("SDK delegate later"),
    });
    const named = await setDeliveryDelegate(world.connection, world.store, owner, {
      dataset: second.dataset,
      delegate: readDelegateCard(await delegate.delegateCard()),
    });
    assert.ok(named.grantCid && named.signature);
    await buyLicense(world.connection, buyer, { dataset: second.dataset, maxPrice: 1_000_000n });
    const events: DeliveryEvent[] = [];
    let passes = 0;
    const abort = new AbortController();
    await watchDeliveries(world.connection, world.store, delegate, {
      intervalMs: 10,
      signal: abort.signal,
      onEvent: (event) => events.push(event),
      onPass: () => {
        if (++passes === 4) abort.abort();
      },
    });
    assert.deepEqual(events.map((e) => [e.kind, e.dataset]), [["refused", second.dataset]]);
    assert.match((events[0] as { reason: string }).reason, /holds neither the owner's copy of its key nor a grant of its own/);
    const withGrant = await deliverPendingKeys(world.connection, world.store, delegate, undefined, {
      grants: await loadDeliveryGrants(world.store, [named.grantCid!]),
    });
    assert.deepEqual([withGrant.delivered, withGrant.refused], [1, 0]);
  });

  test("mistakes: a bad or altered card, naming yourself, someone else's dataset, a bad grant CID; no secret in any output", async () => {
    const delegate = await world.party("careful-delegate");
    const stranger = await world.party("stranger");
    const delegateCard = await card(delegate);
    const file = join(world.dir, "mistakes.bin");
    await writeFile(file, randomBytes(50_000));
    const publishWith = (text: string) =>
      world.run(world.owner, ["dataset", "publish", file, "--title", "m", "--price", "1", "--mint", usdc, "--delegate", text]);

    const bare = await publishWith(delegate.wallet.signer.address);
    assertRefusal(bare, EXIT.usage, /not a valid delegate card: a delegate card starts with "data-market-delegate-card:" \(the delegate prints its card with `data-market wallet card`\)/);
    assert.doesNotMatch(bare.stderr, /encrypting/, "refused before any work");
    const last = delegateCard.at(-5) === "A" ? "B" : "A";
    const altered = delegateCard.slice(0, -5) + last + delegateCard.slice(-4);
    assertRefusal(await publishWith(altered), EXIT.usage, /not a valid delegate card: the delegate card's signature does not verify/);
    assertRefusal(await publishWith(delegateCard.slice(0, -3)), EXIT.usage, /cut short, too long or altered/);
    assertRefusal(await publishWith(await card(world.owner)), EXIT.usage, /cannot be your own delivery delegate/);

    const { dataset } = await publish(world.owner, "mistakes2.bin", 40_000);
    assertRefusal(await world.run(world.owner, ["dataset", "delegate", dataset]), EXIT.usage, /either the delegate's card or --remove/);
    assertRefusal(await world.run(world.owner, ["dataset", "delegate", dataset, delegateCard, "--remove"]), EXIT.usage, /either the delegate's card or --remove/);
    assertRefusal(await world.run(stranger, ["dataset", "delegate", dataset, delegateCard]), EXIT.refused, /only the owner of dataset .* may name its delivery delegate/);
    assertRefusal(await world.run(world.owner, ["dataset", "update", dataset, "--delegate", delegate.wallet.signer.address]), EXIT.usage, /not a valid delegate card/);
    assertRefusal(await world.run(delegate, ["deliver", "--grant", "not-a-cid"]), EXIT.usage, /not a valid CID/);
    // A wallet with nothing to deliver and no grants runs (a hosted daemon waiting for owners).
    const idle = await world.run(stranger, ["deliver"]);
    assert.equal(idle.code, 0, idle.stderr);
    assert.match(idle.stdout, /^0 delivered, 0 missed, 0 failed$/m);

    const secret = Buffer.from(delegate.wallet.secretKey);
    for (const run of [await world.run(delegate, ["wallet", "card"]), await world.run(delegate, ["--json", "wallet", "card"])]) {
      assert.equal(run.code, 0, run.stderr);
      const text = run.stdout + run.stderr;
      for (const form of [secret.toString("hex"), secret.subarray(0, 32).toString("hex"), secret.toString("base64"), secret.toString("base64url"), JSON.stringify([...secret])]) {
        assert.ok(!text.includes(form), "a secret key form appeared in output");
      }
    }
  });
});
