// The bill of data through the CLI: a model trained on three licensed datasets with ten recorded
// uses is exported signed, verifies against the chain, and every kind of edit is caught by the
// claim it falsifies (re-signed by the builder, so only the chain can tell).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address, type Address } from "@solana/kit";

import { EXIT } from "../src/cli/failure.js";
import {
  billSignatureVerifies,
  canonicalJson,
  keypairWallet,
  signBillOfData,
  type BillOfData,
} from "../src/client/index.js";
import { toHex } from "../src/crypto/index.js";
import { CliWorld, assertRefusal, type Party } from "./cli-harness.js";

describe("bill of data: provenance export and verify", () => {
  let world: CliWorld;
  let usdc: Address;
  let builder: Party;
  const model = toHex(new Uint8Array(randomBytes(32)));
  let otherModelReceipt: Address;
  let exported: BillOfData;
  const datasets: Address[] = [];
  const licences: Address[] = [];
  let bill: string;

  before(async () => {
    world = await CliWorld.start();
    usdc = world.market.usdc.address;
    builder = world.buyer;
    const offers = [
      { title: "Support chats", price: "10", category: "text", extra: [] as string[] },
      { title: "Street photos", price: "4", category: "image", extra: ["--duration", "30d", "--attribution"] },
      { title: "Call audio", price: "2.5", category: "audio", extra: ["--no-commercial"] },
    ];
    for (const [i, offer] of offers.entries()) {
      const file = join(world.dir, `dataset-${i}.bin`);
      await writeFile(file, randomBytes(8 * 1024 + i));
      const published = await world.json<{ dataset: string }>(world.owner, [
        "dataset", "publish", file, "--title", offer.title, "--price", offer.price, "--mint", usdc, "--category", offer.category, ...offer.extra,
      ]);
      datasets.push(address(published.dataset));
      const bought = await world.json<{ license: string }>(builder, ["license", "buy", published.dataset, "--max-price", offer.price]);
      licences.push(address(bought.license));
    }
    const delivered = await world.run(world.owner, ["deliver"]);
    assert.match(delivered.stdout, /^3 delivered, 0 missed, 0 failed$/m, delivered.stderr);
    // Ten uses of the model: four, three and three; and one use of another model.
    const purposes = ["training", "fine-tuning", "evaluation"];
    for (let i = 0; i < 10; i++) {
      const dataset = datasets[i < 4 ? 0 : i < 7 ? 1 : 2]!;
      const run = await world.run(builder, ["usage", "record", dataset, "--model", model, "--purpose", purposes[i % 3]!, "--run-id", `run-${i}`]);
      assert.equal(run.code, 0, run.stderr);
      await world.connection.advanceTime(60n);
    }
    const other = await world.json<{ receipt: string }>(builder, ["usage", "record", datasets[0]!, "--model", "ab".repeat(32)]);
    otherModelReceipt = address(other.receipt);
    bill = join(world.dir, "bill.json");
  });

  after(async () => world.stop());

  /** Writes an edited copy of the exported bill, signed again by the builder unless told otherwise. */
  async function edited(name: string, edit: (bill: BillOfData) => void, sign: Party | null = builder): Promise<string> {
    const copy = JSON.parse(JSON.stringify(exported)) as BillOfData;
    edit(copy);
    const out = sign ? await signBillOfData(copy, keypairWallet(sign.wallet)) : copy;
    const path = join(world.dir, `${name}.json`);
    await writeFile(path, JSON.stringify(out, null, 2));
    return path;
  }

  async function verifyFails(path: string, claim: RegExp): Promise<string> {
    const run = await world.run(world.owner, ["provenance", "verify", path]);
    assertRefusal(run, EXIT.verification, /claims? fail/);
    assert.match(run.stderr, claim, run.stderr);
    return run.stderr;
  }

  test("export writes every dataset, licence and use behind the model, signed by the builder", async () => {
    const result = await world.json<{ output: string; markdown: string; uses: number }>(builder, [
      "provenance", "export", "--model", model, "-o", bill,
    ]);
    assert.equal(result.uses, 10);
    exported = JSON.parse(await readFile(bill, "utf8")) as BillOfData;
    assert.equal(exported.signer, builder.wallet.signer.address);
    assert.ok(billSignatureVerifies(exported));
    assert.deepEqual(exported.datasets.map((d) => d.address), datasets);
    assert.deepEqual(exported.licences.map((l) => l.address), licences);
    assert.deepEqual(exported.licences.map((l) => l.pricePaid), ["10000000", "4000000", "2500000"]);
    assert.deepEqual(exported.datasets.map((d) => [d.title, d.category, d.version]), [
      ["Support chats", "text", 1],
      ["Street photos", "image", 1],
      ["Call audio", "audio", 1],
    ]);
    assert.equal(exported.uses.length, 10);
    assert.ok(exported.uses.every((u) => u.transaction !== null && u.slot !== null && u.licenceValidAtUse && u.holder === exported.signer));
    assert.ok(!exported.uses.some((u) => u.receipt === otherModelReceipt), "a use of another model is not in the bill");
    assert.deepEqual(exported.euTrainingContentSummary.modalities, ["audio", "image", "text"]);
    assert.deepEqual(exported.euTrainingContentSummary.commerciallyLicensedDatasets, datasets);
    assert.equal(exported.licences[1]!.terms.attributionRequired, true);
    assert.equal(exported.licences[2]!.terms.commercialUse, false);
    assert.notEqual(exported.licences[1]!.expiresAt, null);

    const markdown = await readFile(result.markdown, "utf8");
    assert.match(markdown, new RegExp(`# Bill of data for model ${model}`));
    assert.match(markdown, /\| Street photos .* \| image \|/);
    assert.match(markdown, /2\.2\.1 datasets commercially licensed from rightsholders: Support chats, Street photos, Call audio/);
    assert.equal(markdown.split("\n").filter((l) => l.startsWith("| 20")).length, 10, "one row per use");
  });

  test("the exported bill verifies: every claim holds on chain", async () => {
    const run = await world.json<{ claims: number; milliseconds: number }>(world.owner, ["provenance", "verify", bill]);
    // signature, program, 3 datasets, 3 licences, 10 uses, 10 licence-validity claims, completeness
    assert.equal(run.claims, 2 + 3 + 3 + 10 + 10 + 1);
    console.log(`verified a bill of 3 datasets and 10 uses in ${run.milliseconds} ms`);
  });

  test("a receipt removed from the bill is caught: the chain holds a use the document leaves out", async () => {
    const removed = exported.uses[3]!.receipt;
    const path = await edited("removed", (b) => b.uses.splice(3, 1));
    await verifyFails(path, new RegExp(`every use of the model: receipt ${removed} of this model is on chain but not in the document`));
  });

  test("a receipt added to the bill is caught: a use of another model, or one that does not exist", async () => {
    const borrowed = await edited("added", (b) => b.uses.push({ ...b.uses[0]!, receipt: otherModelReceipt }));
    await verifyFails(borrowed, new RegExp(`use ${otherModelReceipt}: the receipt names model ${"ab".repeat(32)}`));
    const invented = address("11111111111111111111111111111112");
    const made = await edited("invented", (b) => b.uses.push({ ...b.uses[0]!, receipt: invented }));
    await verifyFails(made, new RegExp(`use ${invented}: no such usage receipt on chain`));
  });

  test("a changed price is caught by its licence", async () => {
    const path = await edited("price", (b) => (b.licences[0]!.pricePaid = "1000000"));
    await verifyFails(path, new RegExp(`licence ${licences[0]}: pricePaid is "10000000" on chain, the document says "1000000"`));
  });

  test("a use placed after its licence expired is caught by name", async () => {
    const use = exported.uses.find((u) => u.licence === licences[1])!;
    const path = await edited("expired", (b) => {
      const licence = b.licences[1]!;
      licence.expiresAt = (BigInt(use.recordedAt) - 1n).toString();
    });
    await verifyFails(path, new RegExp(`licence ${licences[1]} valid at use ${use.receipt}: the licence had expired`));
  });

  test("a wrong signer is caught: another wallet's signature, or another wallet named as the builder", async () => {
    const stranger = await world.party("stranger");
    const forged = await edited("forged", (b) => b, null);
    const tampered = JSON.parse(await readFile(forged, "utf8")) as BillOfData;
    tampered.signature = (await signBillOfData({ ...tampered, signer: stranger.wallet.signer.address }, keypairWallet(stranger.wallet))).signature;
    await writeFile(forged, JSON.stringify(tampered));
    await verifyFails(forged, /fails: signature: the signature is not .*'s over this document/);

    const claimed = await edited("claimed", (b) => (b.signer = stranger.wallet.signer.address), stranger);
    await verifyFails(claimed, new RegExp(`it was recorded by ${builder.wallet.signer.address}, not by the signer ${stranger.wallet.signer.address}`));
  });

  test("an edit without a new signature is caught by the signature, and only the builder can export", async () => {
    const path = await edited("unsigned", (b) => (b.datasets[0]!.title = "Something else"), null);
    const stderr = await verifyFails(path, /fails: signature:/);
    assert.match(stderr, new RegExp(`dataset ${datasets[0]}: title is "Support chats" on chain, the document says "Something else"`));
    assert.ok(canonicalJson({ b: 1, a: [true, null, "x"] }) === '{"a":[true,null,"x"],"b":1}');

    const refused = await world.run(world.owner, ["provenance", "export", "--model", model, "-o", join(world.dir, "owner.json")]);
    assertRefusal(refused, EXIT.refused, /recorded by another wallet/);
    const nothing = await world.run(builder, ["provenance", "export", "--model", "cd".repeat(32), "-o", join(world.dir, "none.json")]);
    assertRefusal(nothing, EXIT.notFound, /no use of a licensed dataset is recorded/);
  });
});
