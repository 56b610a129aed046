// The CLI's and the client's small pieces: amounts, durations, enum and hash arguments, failure
// classification, progress rendering.
import assert from "node:assert/strict";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, test } from "node:test";

import { AmountFormatError, ClientError, formatAmount, formatDuration, parseAmount, parseDuration } from "../src/client/index.js";
import { EXIT, describeFailure } from "../src/cli/failure.js";
import { Output, toJson } from "../src/cli/output.js";
import { parseCategory, parseModelHash, parsePurpose, parseRunId } from "../src/cli/parse.js";
import { CryptoError } from "../src/crypto/index.js";
import { DatasetCategory, UsagePurpose } from "../src/sdk/index.js";
import { ContentNotFoundError } from "../src/storage/index.js";

describe("amounts", () => {
  test("parse exactly, in base units", () => {
    assert.equal(parseAmount("10", 6), 10_000_000n);
    assert.equal(parseAmount("2.5", 6), 2_500_000n);
    assert.equal(parseAmount("0.000001", 6), 1n);
    assert.equal(parseAmount("18446744073709.551615", 6), 18_446_744_073_709_551_615n);
    assert.equal(parseAmount("7.", 0), 7n);
  });

  test("refuse what is not an exact amount", () => {
    for (const bad of ["", "-1", "1e3", "1,5", "0x10", " . ", "abc"]) {
      assert.throws(() => parseAmount(bad, 6), AmountFormatError, bad);
    }
    assert.throws(() => parseAmount("0.0000001", 6), /more than 6 decimal places/);
  });

  test("format without trailing zeros, and round-trip", () => {
    assert.equal(formatAmount(9_750_000n, 6), "9.75");
    assert.equal(formatAmount(1n, 6), "0.000001");
    assert.equal(formatAmount(10n ** 6n, 6), "1");
    assert.equal(formatAmount(-250_000n, 6), "-0.25");
    for (const text of ["0", "1", "0.1", "123.456789"]) assert.equal(formatAmount(parseAmount(text, 6), 6), text);
  });

  test("durations both ways", () => {
    assert.equal(parseDuration("90s"), 90);
    assert.equal(parseDuration("30m"), 1_800);
    assert.equal(parseDuration("1h"), 3_600);
    assert.equal(parseDuration("7d"), 604_800);
    assert.equal(parseDuration("45"), 45);
    assert.throws(() => parseDuration("1w"), AmountFormatError);
    assert.equal(formatDuration(0), "0s");
    assert.equal(formatDuration(86_400 + 3_600 + 61), "1d 1h 1m 1s");
    assert.equal(formatDuration(9_000n), "2h 30m");
  });
});

describe("arguments", () => {
  test("enums by name, with the choices in the error", () => {
    assert.equal(parseCategory("Tabular"), DatasetCategory.Tabular);
    assert.equal(parsePurpose("fine-tuning"), UsagePurpose.FineTuning);
    assert.throws(() => parsePurpose("inference"), (e: unknown) => e instanceof ClientError && /one of: training, fine-tuning/.test(e.message));
  });

  test("a model is a sha256 or a file to hash", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cli-units-"));
    try {
      const hex = "0f".repeat(32);
      assert.equal(Buffer.from(await parseModelHash(hex)).toString("hex"), hex);
      const model = join(dir, "model.safetensors");
      await writeFile(model, "weights");
      const expected = (await import("node:crypto")).createHash("sha256").update("weights").digest("hex");
      assert.equal(Buffer.from(await parseModelHash(model)).toString("hex"), expected);
      await assert.rejects(parseModelHash(join(dir, "missing")), /neither a 64-character hex sha256 nor a model file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("run ids are at most 32 bytes, zero-padded", () => {
    assert.deepEqual([...parseRunId("ab").subarray(0, 3)], [0x61, 0x62, 0]);
    assert.equal(parseRunId(undefined).every((b) => b === 0), true);
    assert.throws(() => parseRunId("x".repeat(33)), /at most 32 bytes/);
  });
});

describe("failures", () => {
  test("each kind has its exit code", () => {
    assert.equal(describeFailure(new ClientError("usage", "x")).exitCode, EXIT.usage);
    assert.equal(describeFailure(new ClientError("refused", "x")).exitCode, EXIT.refused);
    assert.equal(describeFailure(new ClientError("verification", "x")).exitCode, EXIT.verification);
    assert.equal(describeFailure(new ContentNotFoundError("bafy", "gone")).exitCode, EXIT.notFound);
    assert.equal(describeFailure(new CryptoError("HASH_MISMATCH", "hash")).exitCode, EXIT.verification);
    assert.equal(describeFailure(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") })).exitCode, EXIT.network);
    assert.equal(describeFailure(new Error("something else")).exitCode, EXIT.internal);
  });
});

describe("output", () => {
  class Capture extends Writable {
    text = "";
    isTTY = false;
    override _write(chunk: Buffer | string, _e: BufferEncoding, callback: () => void) {
      this.text += chunk.toString();
      callback();
    }
  }

  test("JSON carries u64s as strings and bytes as hex", () => {
    assert.equal(toJson({ a: 2n ** 64n - 1n, b: Uint8Array.of(1, 255) }), '{"a":"18446744073709551615","b":"01ff"}');
  });

  test("progress off a terminal is one line at the start and one at the end of each phase", () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const progress = new Output({ stdout, stderr }, false).progress();
    for (let done = 0; done <= 4 * 1024 * 1024; done += 1024 * 1024) progress({ phase: "encrypt", done, total: 4 * 1024 * 1024 });
    progress({ phase: "upload", done: 0, total: 10 });
    progress({ phase: "upload", done: 10, total: 10 });
    assert.equal(stderr.text, "encrypting 4.0 MiB...\nencrypting: done (4.0 MiB)\nadding to IPFS 10 B...\nadding to IPFS: done (10 B)\n");
    assert.equal(stdout.text, "");
  });

  test("progress on a terminal redraws one bar and ends the line when done", () => {
    const stderr = new Capture();
    stderr.isTTY = true;
    const progress = new Output({ stdout: new Capture(), stderr }, false).progress();
    progress({ phase: "download", done: 0, total: 100 });
    progress({ phase: "download", done: 100, total: 100 });
    assert.match(stderr.text, /^\rdownloading +\[\.{30}\]   0% 0 B \/ 100 B   \rdownloading +\[#{30}\] 100% 100 B \/ 100 B   \n$/);
  });
});

describe("wallets", () => {
  test("a browser wallet's signMessage and the CLI's keypair file derive the same X25519 key", async () => {
    const { createKeypairFile, keypairWallet, messageSigningWallet } = await import("../src/client/index.js");
    const { getAddressEncoder, signBytes } = await import("@solana/kit");
    const dir = await mkdtemp(join(tmpdir(), "cli-wallet-"));
    try {
      const file = await createKeypairFile(join(dir, "id.json"));
      const phantomLike = messageSigningWallet(file.signer, {
        publicKey: new Uint8Array(getAddressEncoder().encode(file.signer.address)),
        signMessage: async (message) => new Uint8Array(await signBytes(file.signer.keyPair.privateKey, message)),
      });
      const fromFile = await keypairWallet(file).encryptionKeyPair();
      assert.deepEqual((await phantomLike.encryptionKeyPair()).publicKey, fromFile.publicKey);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
