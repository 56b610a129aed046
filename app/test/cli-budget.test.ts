// The compute-budget options of the CLI on the embedded SVM: accepted, set on the transaction as
// given and charged, reported in --json and --verbose; malformed values are usage errors.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { EXIT } from "../src/cli/failure.js";
import { CliWorld } from "./cli-harness.js";

interface Reported {
  transactions: { computeUnitLimit: number | null; priorityFeeMicroLamports: string | null; limitSource: string | null; computeUnitsConsumed: string | null }[];
}

describe("CLI compute-budget options on the embedded SVM", () => {
  let world: CliWorld;

  before(async () => {
    world = await CliWorld.start();
  });

  after(async () => {
    await world?.stop();
  });

  test("--priority-fee and --compute-unit-limit are set and paid for", async () => {
    const payer = world.operator.wallet.signer.address;
    const before = await world.connection.getLamports(payer);
    const run = await world.run(world.operator, [
      "--json", "--verbose", "--commitment", "finalized", "--priority-fee", "1000", "--compute-unit-limit", "200000", "market", "update", "--fee-bps", "300",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const [sent] = (JSON.parse(run.stdout) as Reported).transactions;
    assert.equal(sent?.computeUnitLimit, 200_000);
    assert.equal(sent?.priorityFeeMicroLamports, "1000");
    assert.equal(sent?.limitSource, "option");
    assert.ok(Number(sent?.computeUnitsConsumed) > 0);
    assert.match(run.stderr, /compute-unit limit 200000 \(--compute-unit-limit\); priority fee 1000 micro-lamports\/CU \(--priority-fee\)/);
    // 5000 lamports for the signature, plus 200,000 CU at 1000 micro-lamports.
    assert.equal(before - (await world.connection.getLamports(payer)), 5_000n + 200n);
  });

  test("without them the embedded SVM sends no compute budget, and says so", async () => {
    const run = await world.run(world.operator, ["--json", "--verbose", "market", "update", "--fee-bps", "250"]);
    assert.equal(run.code, 0, run.stderr);
    const [sent] = (JSON.parse(run.stdout) as Reported).transactions;
    assert.equal(sent?.computeUnitLimit, null);
    assert.equal(sent?.priorityFeeMicroLamports, null);
    assert.match(run.stderr, /no compute budget/);
  });

  test("a limit too low for the transaction is the cluster's refusal", async () => {
    const run = await world.run(world.operator, ["--compute-unit-limit", "500", "market", "update", "--fee-bps", "260"]);
    assert.equal(run.code, EXIT.refused);
    assert.match(run.stderr, /^error: transaction refused: /);
  });

  test("malformed values are usage errors", async () => {
    for (const argv of [
      ["--priority-fee", "-5"],
      ["--priority-fee", "1.5"],
      ["--compute-unit-limit", "0"],
      ["--compute-unit-limit", "1400001"],
      ["--commitment", "max"],
    ]) {
      const run = await world.run(world.operator, [...argv, "market", "update", "--fee-bps", "270"]);
      assert.equal(run.code, EXIT.usage, `${argv.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /^error: --(priority-fee|compute-unit-limit|commitment) /);
    }
  });
});
