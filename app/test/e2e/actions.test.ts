// Buying from a link: the Solana Actions endpoints against a local validator. Every body is checked
// against the specification's shapes (@solana/actions-spec); the transaction a POST returns is
// signed by the buyer's key here, sent to the validator, and creates the licence, whose key then
// opens the delivered data.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import type { ActionError, ActionGetResponse, ActionsJson, ExternalLinkResponse, LinkedAction, TransactionResponse } from "@solana/actions-spec";
import {
  address,
  getBase64EncodedWireTransaction,
  getBase64Encoder,
  getTransactionDecoder,
  signTransaction,
  type Address,
  type Signature,
} from "@solana/kit";

import { datasetBlinkUrl, watchDatasets } from "../../src/actions/dataset-action.js";
import { ACTIONS_CORS_HEADERS, actionsHandler, type RequestHandler } from "../../src/actions/server.js";
import { walletTokenBalance } from "../../src/client/index.js";
import { USDC } from "../../src/localnet/provision.js";
import { startLocalStack, type LocalStack } from "../../src/localnet/stack.js";
import { LicenseState, fetchLicense, findLicenseAddress } from "../../src/sdk/index.js";
import { HeliaContentStore, type ContentStore } from "../../src/storage/index.js";
import { runCliAt, waitFor } from "./helpers.js";

const RPC_PORT = 42_899;
const LINKED_TYPES = new Set(["transaction", "message", "post", "external-link"]);

// The specification's shapes, checked field by field (the package carries types only).
function assertActionGetResponse(body: unknown): asserts body is ActionGetResponse {
  const b = body as ActionGetResponse;
  assert.ok(b.type === undefined || b.type === "action", "type is action");
  for (const field of ["icon", "title", "description", "label"] as const) assert.equal(typeof b[field], "string", `${field} is a string`);
  assert.match(b.icon, /^https?:\/\/.+\.(svg|png|webp)$/, "icon is an absolute SVG, PNG or WebP URL");
  assert.ok(b.disabled === undefined || typeof b.disabled === "boolean");
  assert.ok(b.error === undefined || typeof b.error.message === "string");
  for (const action of b.links?.actions ?? []) assertLinkedAction(action);
}

function assertLinkedAction(action: LinkedAction): void {
  assert.ok(LINKED_TYPES.has(action.type), `linked action type ${action.type}`);
  assert.equal(typeof action.href, "string");
  assert.equal(typeof action.label, "string");
  for (const parameter of action.parameters ?? []) {
    assert.equal(typeof parameter.name, "string");
    assert.ok(action.href.includes(`{${parameter.name}}`), `href carries {${parameter.name}}`);
  }
}

function assertTransactionResponse(body: unknown): asserts body is TransactionResponse {
  const b = body as TransactionResponse;
  assert.equal(b.type, "transaction");
  assert.equal(typeof b.transaction, "string");
  assert.ok(b.message === undefined || typeof b.message === "string");
  const next = b.links?.next;
  if (next) {
    assert.ok(next.type === "inline" || next.type === "post");
    if (next.type === "inline") {
      assert.ok(next.action.type === "completed" || next.action.type === "action");
      for (const field of ["icon", "title", "description", "label"] as const) assert.equal(typeof next.action[field], "string");
    }
  }
}

function assertActionError(body: unknown): asserts body is ActionError {
  assert.equal(typeof (body as ActionError).message, "string");
  assert.deepEqual(Object.keys(body as object), ["message"]);
}

describe("Solana Actions: buying a dataset from a link", { timeout: 600_000 }, () => {
  let dir: string;
  let stack: LocalStack;
  let store: ContentStore;
  let server: Server;
  let origin: string;
  let sold: Address;
  let first: Address;
  let content: Buffer;

  const cli = (keypair: string, argv: string[]) => runCliAt(stack.url, keypair, argv, { store });
  const request = (path: string, init?: RequestInit) => fetch(`${origin}${path}`, init);
  const post = (path: string, body: unknown) =>
    request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const buyer = () => stack.wallets.buyer.wallet.signer.address;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "data-market-actions-"));
    stack = await startLocalStack({ dir, rpcPort: RPC_PORT, faucetPort: RPC_PORT + 71 });
    store = await HeliaContentStore.open({ directory: join(dir, "ipfs") });
    // The handler makes absolute URLs from the origin, known once the server listens.
    let handle: RequestHandler | null = null;
    server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      void handle!(req, res, path).then((handled) => handled || res.writeHead(404).end());
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    handle = actionsHandler({ connection: stack.connection, origin, symbols: { [stack.market.usdc.address]: "USDC" } });

    const publish = async (title: string, price: string, bytes: Buffer) => {
      const file = join(dir, `${title}.bin`);
      await writeFile(file, bytes);
      const run = await cli(stack.wallets.owner.keypairPath, [
        "--json", "dataset", "publish", file, "--title", title, "--price", price, "--mint", stack.market.usdc.address, "--category", "text",
        "--duration", "30d", "--attribution",
      ]);
      assert.equal(run.code, 0, run.stderr);
      return address((JSON.parse(run.stdout) as { dataset: string }).dataset);
    };
    content = randomBytes(200_000);
    sold = await publish("Sold from a link", "3", content);
    first = await publish("Bought in the dapp first", "2", randomBytes(1_000));
  });

  after(async () => {
    await new Promise<void>((ok) => (server ? (server.closeAllConnections(), server.close(() => ok())) : ok()));
    await store?.stop();
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("actions.json and every answer carry the required CORS headers; OPTIONS is answered", async () => {
    const rules = await request("/actions.json");
    assert.equal(rules.status, 200);
    const body = (await rules.json()) as ActionsJson;
    assert.deepEqual(body.rules, [
      { pathPattern: "/buy/*", apiPath: "/api/actions/dataset/*" },
      { pathPattern: "/api/actions/**", apiPath: "/api/actions/**" },
    ]);
    for (const response of [rules, await request(`/api/actions/dataset/${sold}`, { method: "OPTIONS" })]) {
      for (const [name, value] of Object.entries(ACTIONS_CORS_HEADERS)) assert.equal(response.headers.get(name), value, name);
    }
    const preflight = await request(`/api/actions/dataset/${sold}`, { method: "OPTIONS" });
    assert.equal(preflight.status, 204);
    const genesis = await stack.connection.rpc.getGenesisHash().send();
    assert.equal(preflight.headers.get("x-blockchain-ids"), `solana:${genesis.slice(0, 32)}`);
    assert.equal(preflight.headers.get("x-action-version"), "2.4");
    // A person following the link lands on the dataset's page.
    const landing = await request(`/buy/${sold}`, { redirect: "manual" });
    assert.equal(landing.status, 302);
    assert.equal(landing.headers.get("location"), `/#/dataset/${sold}`);
    assert.equal(datasetBlinkUrl(origin, sold), `solana-action:${origin}/api/actions/dataset/${sold}`);
  });

  test("GET shows the title, icon, price and terms in a line, a buy action and the dapp link", async () => {
    const response = await request(`/api/actions/dataset/${sold}`);
    assert.equal(response.status, 200);
    const body: unknown = await response.json();
    assertActionGetResponse(body);
    assert.equal(body.title, "Sold from a link");
    assert.equal(body.icon, `${origin}/icon.svg`);
    assert.equal(body.label, "Buy for 3 USDC");
    assert.match(body.description, /^3 USDC\. 30d licence; AI training, commercial use, derivative models allowed; attribution required; non-transferable\./);
    assert.deepEqual(
      body.links!.actions.map((a) => [a.type, a.href, a.label]),
      [
        ["transaction", `/api/actions/dataset/${sold}`, "Buy for 3 USDC"],
        ["external-link", `/api/actions/dataset/${sold}/dapp`, "Open in the dapp"],
      ],
    );
    const link = await post(`/api/actions/dataset/${sold}/dapp`, { account: buyer() });
    const external = (await link.json()) as ExternalLinkResponse;
    assert.equal(external.type, "external-link");
    assert.equal(external.externalLink, `${origin}/#/dataset/${sold}`);

    const missing = await request(`/api/actions/dataset/${stack.market.usdc.address}`);
    assert.equal(missing.status, 404);
    assertActionError(await missing.json());
  });

  test("a wallet that never bought here is sent to the dapp: its key is made by its own wallet, never by this server", async () => {
    const response = await post(`/api/actions/dataset/${sold}`, { account: buyer() });
    assert.equal(response.status, 422);
    const body: unknown = await response.json();
    assertActionError(body);
    assert.match(body.message, new RegExp(`has not bought here before: buy once in the dapp \\(${origin}/#/dataset/${sold}\\)`));
    const invalid = await post(`/api/actions/dataset/${sold}`, { account: "not-an-address" });
    assert.equal(invalid.status, 400);
    assertActionError(await invalid.json());
  });

  test("a returning buyer's POST returns the purchase; signed and sent, it creates the licence, and the delivered key opens the data", async () => {
    // The first purchase, as in the dapp: the wallet's own key goes on chain.
    const bought = await cli(stack.wallets.buyer.keypairPath, ["license", "buy", first, "--max-price", "2"]);
    assert.equal(bought.code, 0, bought.stderr);
    const key = (await fetchLicense(stack.connection, await findLicenseAddress(first, buyer()))).data.buyerEncryptionKey;

    const before = await walletTokenBalance(stack.connection, stack.market.usdc, buyer());
    const response = await post(`/api/actions/dataset/${sold}`, { account: buyer() });
    assert.equal(response.status, 200, await response.clone().text());
    const body: unknown = await response.json();
    assertTransactionResponse(body);
    assert.match(body.message!, /Buys a licence to "Sold from a link" for 3 USDC/);

    const transaction = getTransactionDecoder().decode(getBase64Encoder().encode(body.transaction));
    assert.deepEqual(Object.keys(transaction.signatures), [buyer()], "the buyer is the only signer, and pays the fee");
    const signed = await signTransaction([stack.wallets.buyer.wallet.signer.keyPair], transaction);
    const signature = (await stack.connection.rpc
      .sendTransaction(getBase64EncodedWireTransaction(signed), { encoding: "base64", preflightCommitment: "confirmed" })
      .send()) as Signature;
    await waitFor(async () => {
      const { value } = await stack.connection.rpc.getSignatureStatuses([signature]).send();
      const status = value[0];
      if (status?.err) throw new Error(`the purchase failed: ${JSON.stringify(status.err)}`);
      return status?.confirmationStatus === "confirmed" || status?.confirmationStatus === "finalized";
    }, 60_000);

    const licence = await fetchLicense(stack.connection, await findLicenseAddress(sold, buyer()));
    assert.equal(licence.data.state, LicenseState.AwaitingKey);
    assert.equal(licence.data.pricePaid, 3n * USDC);
    assert.deepEqual(licence.data.buyerEncryptionKey, key, "sealed to the wallet's own key, from its first licence");
    assert.equal(await walletTokenBalance(stack.connection, stack.market.usdc, buyer()), before - 3n * USDC);

    const delivered = await cli(stack.wallets.owner.keypairPath, ["deliver"]);
    assert.equal(delivered.code, 0, delivered.stderr);
    const output = join(dir, "downloaded.bin");
    const download = await cli(stack.wallets.buyer.keypairPath, ["download", sold, "-o", output]);
    assert.equal(download.code, 0, download.stderr);
    assert.ok((await readFile(output)).equals(content), "the licence bought from the link opens the data");

    const again = await post(`/api/actions/dataset/${sold}`, { account: buyer() });
    assert.equal(again.status, 422);
    const refusal: unknown = await again.json();
    assertActionError(refusal);
    assert.match(refusal.message, /already holds a licence/);
  });

  test("the stack's watcher names each registered dataset once, for its blink", async () => {
    const seen: [Address, string][] = [];
    const stop = new AbortController();
    const watching = watchDatasets({ connection: stack.connection }, (dataset, title) => seen.push([dataset, title]), stop.signal, 200);
    await waitFor(async () => seen.length >= 2, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 600));
    stop.abort();
    await watching;
    assert.deepEqual(
      new Map(seen),
      new Map([
        [sold, "Sold from a link"],
        [first, "Bought in the dapp first"],
      ]),
    );
    assert.equal(seen.length, 2, "each dataset once");
  });
});
