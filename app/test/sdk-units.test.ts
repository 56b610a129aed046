// SDK pieces that need no validator: the generated tables against the IDL, filter semantics, error
// and event parsing on hand-made logs, helpers and instruction account filling.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import {
  AccountRole,
  SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_RENT,
  SolanaError,
  address,
  generateKeyPairSigner,
  getBase64Decoder,
  type ReadonlyUint8Array,
} from "@solana/kit";

import { getLicensePurchasedEncoder } from "../src/generated/types/index.js";
import {
  ACCOUNT_KINDS,
  DATA_MARKET_EVENTS,
  DATA_MARKET_PROGRAM_ADDRESS,
  DATA_MARKET_PROGRAM_ERRORS,
  DEFAULT_ADDRESS,
  TOKEN_PROGRAM_ADDRESS,
  UsagePurpose,
  dataSizeFilter,
  datasetAverageRating,
  datasetFreeRating,
  datasetLedgerTotal,
  datasetTags,
  decodeEvent,
  encodeTag,
  explainError,
  explainLogs,
  findFrontEndAddress,
  matchesFilters,
  memcmpFilter,
  parseEvents,
  purchaseLicenseInstructions,
  queries,
  recordUsageInstruction,
} from "../src/sdk/index.js";

interface IdlEntry {
  name: string;
  discriminator: number[];
}
const idl = JSON.parse(readFileSync(new URL("../../idl/data_market.json", import.meta.url), "utf8")) as {
  address: string;
  accounts: IdlEntry[];
  events: IdlEntry[];
  errors: { code: number; name: string; msg: string }[];
};

const OTHER_PROGRAM = "Other1111111111111111111111111111111111111";
const PROGRAM = DATA_MARKET_PROGRAM_ADDRESS;

function licensePurchasedData(): Uint8Array {
  const definition = DATA_MARKET_EVENTS.find((e) => e.name === "LicensePurchased")!;
  const payload = getLicensePurchasedEncoder().encode({
    dataset: address("11111111111111111111111111111112"),
    license: address("11111111111111111111111111111113"),
    buyer: address("11111111111111111111111111111114"),
    pricePaid: 10n,
    protocolFee: 1n,
    referralFee: 2n,
    referrer: DEFAULT_ADDRESS,
    credits: 1n,
    durationSecs: 0n,
  });
  return new Uint8Array([...definition.discriminator, ...payload]);
}

const b64 = (bytes: ReadonlyUint8Array) => getBase64Decoder().decode(bytes);

describe("generated client against the IDL", () => {
  test("program address, account, event and error tables match idl/data_market.json", () => {
    assert.equal(PROGRAM, idl.address);
    for (const account of idl.accounts) {
      const kind = ACCOUNT_KINDS[account.name as keyof typeof ACCOUNT_KINDS];
      assert.ok(kind, `account ${account.name}`);
      assert.deepEqual([...kind.discriminator], account.discriminator);
    }
    assert.deepEqual(
      DATA_MARKET_EVENTS.map((e) => [e.name, [...e.discriminator]]),
      [...idl.events].sort((a, b) => a.name.localeCompare(b.name)).map((e) => [e.name, e.discriminator]),
    );
    assert.deepEqual(
      DATA_MARKET_PROGRAM_ERRORS.map((e) => [e.code, e.name, e.message]),
      idl.errors.map((e) => [e.code, e.name, e.msg]),
    );
  });
});

describe("discovery filters", () => {
  test("memcmp and dataSize follow the RPC's semantics", () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5]);
    assert.ok(matchesFilters(data, [memcmpFilter(1, Uint8Array.of(2, 3))]));
    assert.ok(!matchesFilters(data, [memcmpFilter(1, Uint8Array.of(2, 4))]));
    assert.ok(!matchesFilters(data, [memcmpFilter(4, Uint8Array.of(5, 6))]), "past the end");
    assert.ok(matchesFilters(data, [dataSizeFilter(5), memcmpFilter(0, Uint8Array.of(1))]));
    assert.ok(!matchesFilters(data, [dataSizeFilter(6), memcmpFilter(0, Uint8Array.of(1))]), "all must match");
    assert.ok(matchesFilters(data, []));
  });

  test("a tag query tries each of the 5 zero-padded slots", () => {
    const q = queries.datasetsByTag("nlp");
    assert.equal(q.alternatives.length, 5);
    const offsets = q.alternatives.map((filters) => filters.map((f) => ("memcmp" in f ? f.memcmp.offset : -1n)));
    assert.deepEqual(offsets, [[0n, 82n], [0n, 106n], [0n, 130n], [0n, 154n], [0n, 178n]]);
    const slot = encodeTag("nlp");
    assert.equal(slot.length, 24);
    assert.deepEqual([...slot.subarray(0, 4)], [110, 108, 112, 0]);
    assert.throws(() => encodeTag("x".repeat(33)), RangeError);
    assert.throws(() => queries.receiptsByModelHash(new Uint8Array(31)), RangeError);
  });
});

describe("dataset helpers", () => {
  test("tags, average rating and the ledger total", () => {
    const tags = [encodeTag("code"), new Uint8Array(24), encodeTag("rust"), new Uint8Array(24), new Uint8Array(24)];
    assert.deepEqual(datasetTags({ tags }), ["code", "rust"]);
    const none = { count: 0, sum: 0n };
    assert.equal(datasetAverageRating({ ratings: { paid: none, free: none } }), null);
    const ratings = { paid: { count: 4, sum: 14n }, free: { count: 1, sum: 1n } };
    assert.equal(datasetAverageRating({ ratings }), 3.5);
    assert.equal(datasetFreeRating({ ratings }), 1);
    const ledger = { escrowed: 5n, claimable: [1n, 2n, 0n, 0n, 0n], referralFeesOwed: 3n, protocolFeesOwed: 4n };
    assert.equal(datasetLedgerTotal({ ledger }), 15n);
  });
});

describe("error mapping", () => {
  const priceAboveMax = DATA_MARKET_PROGRAM_ERRORS.find((e) => e.name === "PriceAboveMax")!;

  test("a kit SolanaError with a custom code, and a preflight failure carrying logs", () => {
    const custom = new SolanaError(SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM, { code: priceAboveMax.code, index: 1 });
    const explained = explainError(custom);
    assert.equal(explained.origin, "data-market");
    assert.equal(explained.message, priceAboveMax.message);
    assert.equal(explained.instructionIndex, 1);

    const logs = [
      `Program ${PROGRAM} invoke [1]`,
      `Program ${TOKEN_PROGRAM_ADDRESS} invoke [2]`,
      "Program log: Error: insufficient funds",
      `Program ${TOKEN_PROGRAM_ADDRESS} failed: custom program error: 0x1`,
      `Program ${PROGRAM} failed: custom program error: 0x1`,
    ];
    const preflight = new SolanaError(SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE, {
      accounts: null,
      logs,
      returnData: null,
      unitsConsumed: 0n,
      cause: new SolanaError(SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM, { code: 1, index: 0 }),
    } as never);
    const token = explainError(preflight);
    assert.equal(token.origin, "token");
    assert.equal(token.name, "InsufficientFunds");
    assert.equal(token.message, "Insufficient funds (insufficient funds)");
    assert.equal(token.programAddress, TOKEN_PROGRAM_ADDRESS);
  });

  test("Anchor account errors name the account", () => {
    const explained = explainLogs([
      `Program ${PROGRAM} invoke [1]`,
      "Program log: Instruction: ClaimRevenue",
      "Program log: AnchorError caused by account: recipient_account. Error Code: ConstraintTokenOwner. Error Number: 2015. Error Message: A token owner constraint was violated.",
      `Program ${PROGRAM} consumed 5000 of 200000 compute units`,
      `Program ${PROGRAM} failed: custom program error: 0x7df`,
    ]);
    assert.deepEqual(explained, {
      origin: "anchor",
      code: 2015,
      name: "ConstraintTokenOwner",
      message: "A token owner constraint was violated (account: recipient_account)",
      programAddress: PROGRAM,
      account: "recipient_account",
    });
  });

  test("a fee payer without SOL is named in the runtime's words, whatever kit's build says in its message", () => {
    // kit's production build (the dapp's bundle) puts only "Solana error #7050003" in `message`
    const noSol = new SolanaError(SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND);
    assert.match(explainError(noSol).message, /no record of a prior credit/);
    const rent = new SolanaError(SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_RENT, { accountIndex: 0 });
    assert.match(explainError(rent).message, /Insufficient funds for rent/);
  });

  test("bare codes by range, RPC JSON errors, runtime failures", () => {
    assert.equal(explainError({ InstructionError: [0, { Custom: 2001 }] }).name, "ConstraintHasOne");
    const low = explainError({ InstructionError: [0, { Custom: 1 }] });
    assert.equal(low.origin, "unknown");
    assert.match(low.message, /token program error: Insufficient funds/);
    const runtime = explainLogs([
      `Program ${PROGRAM} invoke [1]`,
      `Program ${PROGRAM} consumed 200000 of 200000 compute units`,
      `Program ${PROGRAM} failed: exceeded CUs meter at BPF instruction #123`,
    ]);
    assert.equal(runtime?.origin, "runtime");
    assert.match(runtime!.message, /exceeded CUs meter/);
    assert.equal(explainLogs([`Program ${PROGRAM} invoke [1]`, `Program ${PROGRAM} success`]), null);
    assert.equal(explainError(new Error("blockhash not found")).message, "blockhash not found");
  });
});

describe("event parsing", () => {
  test("only data logged by the program itself is decoded", () => {
    const data = b64(licensePurchasedData());
    const logs = [
      `Program ${PROGRAM} invoke [1]`,
      `Program ${OTHER_PROGRAM} invoke [2]`,
      `Program data: ${data}`, // logged by the program it called
      `Program ${OTHER_PROGRAM} success`,
      `Program data: ${data}`,
      "Program data: not-base64!",
      `Program data: ${b64(new Uint8Array(16))}`, // unknown discriminator
      `Program ${PROGRAM} success`,
      `Program data: ${data}`, // after it returned
    ];
    const events = parseEvents(logs);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.name, "LicensePurchased");
    assert.deepEqual(events[0]!.data, decodeEvent(licensePurchasedData())!.data);
    assert.equal(decodeEvent(new Uint8Array(4)), null);
  });
});

describe("instruction builders fill every account", () => {
  test("purchase prepends the licence token account creation; optional accounts default to the program id; a free purchase names no payment account; a referrer is its front-end record", async () => {
    const buyer = await generateKeyPairSigner();
    const keys = {
      dataset: address("11111111111111111111111111111112"),
      paymentMint: address("11111111111111111111111111111113"),
      paymentTokenProgram: TOKEN_PROGRAM_ADDRESS,
    };
    const [create, purchase] = await purchaseLicenseInstructions({ buyer, keys, maxPrice: 1, buyerEncryptionKey: new Uint8Array(32).fill(1) });
    assert.equal(create!.accounts![0]!.address, buyer.address);
    assert.equal(create!.accounts![1]!.address, purchase!.accounts![5]!.address, "the buyer's licence token account");
    assert.equal(purchase!.accounts!.length, 14);
    assert.notEqual(purchase!.accounts![7]!.address, PROGRAM, "the buyer's payment account");
    assert.equal(purchase!.accounts![12]!.address, PROGRAM, "no allow-list entry");
    assert.equal(purchase!.accounts![13]!.address, PROGRAM, "no referrer");
    const listed = await purchaseLicenseInstructions({ buyer, keys, maxPrice: 1, buyerEncryptionKey: new Uint8Array(32).fill(1), allowListed: true });
    assert.notEqual(listed[1]!.accounts![12]!.address, PROGRAM);
    const [, free] = await purchaseLicenseInstructions({ buyer, keys, maxPrice: 0, buyerEncryptionKey: new Uint8Array(32).fill(1) });
    assert.equal(free!.accounts![7]!.address, PROGRAM, "a free licence moves no tokens");
    const frontEnd = address("11111111111111111111111111111114");
    const [, referred] = await purchaseLicenseInstructions({ buyer, keys, maxPrice: 1, buyerEncryptionKey: new Uint8Array(32).fill(1), referrer: frontEnd });
    assert.equal(referred!.accounts![13]!.address, await findFrontEndAddress(frontEnd));
    await assert.rejects(purchaseLicenseInstructions({ buyer, keys, maxPrice: 1, buyerEncryptionKey: new Uint8Array(31) }), RangeError);

    const attestor = await generateKeyPairSigner();
    const usage = { holder: buyer, dataset: keys.dataset, serial: 1n, usageCount: 0n, purpose: UsagePurpose.Training, modelHash: new Uint8Array(32).fill(2), runId: new Uint8Array(32) };
    const without = await recordUsageInstruction(usage);
    assert.equal(without.accounts![1]!.address, PROGRAM);
    const withAttestor = await recordUsageInstruction({ ...usage, attestor });
    assert.equal(withAttestor.accounts![1]!.address, attestor.address);
    assert.equal(withAttestor.accounts![1]!.role, AccountRole.READONLY_SIGNER);
  });
});

describe("browser safety", () => {
  test("src/sdk/index.ts and everything it imports are free of Node-only APIs", async () => {
    const seen = new Set<string>();
    const queue = [fileURLToPath(new URL("../src/sdk/index.ts", import.meta.url))];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = await readFile(file, "utf8");
      const specifiers = [...source.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!);
      for (const spec of specifiers) {
        if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
        else assert.match(spec, /^(@solana\/kit|@noble\/)/, `${file} imports ${spec}`);
      }
      const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      assert.doesNotMatch(code, /\bBuffer\b|\bprocess\.|\brequire\(/, `${file} uses a Node global`);
    }
    assert.ok(seen.size > 20, `walked ${seen.size} modules`);
  });
});

describe("limits", () => {
  test("every limit the SDK exports equals the program's constant of the same name", async () => {
    const sdk = (await import("../src/sdk/constants.js")) as unknown as Record<string, unknown>;
    const source = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), "../../programs/data_market/src/constants.rs"), "utf8");
    const program = new Map<string, number>();
    for (const [, name, expression] of source.matchAll(/pub const ([A-Z0-9_]+): (?:u8|u16|u32|u64|usize) = ([0-9_ *]+);/g)) {
      program.set(name!, expression!.split("*").reduce((product, factor) => product * Number(factor.trim().replaceAll("_", "")), 1));
    }
    const limits = Object.entries(sdk).filter(([name, value]) => /^(MAX|MIN)_|_LEN$|^BPS_/.test(name) && typeof value === "number");
    assert.ok(limits.length >= 18, `only ${limits.length} limits found`);
    for (const [name, value] of limits) {
      assert.ok(program.has(name), `${name} has no counterpart in constants.rs`);
      assert.equal(value, program.get(name), name);
    }
  });
});
