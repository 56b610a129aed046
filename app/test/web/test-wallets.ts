// Wallets for the browser tests: real Wallet Standard wallets registered in the page, whose keys
// never enter it. The page side (an init script) implements the standard's registration protocol
// and the standard:connect, standard:events and solana:* features; every signature is made in Node
// through a binding, with the wallet's real key, and signAndSendTransaction sends to the test's
// validator like a wallet pointed at a custom RPC. Each wallet decides per request whether the
// person approves (`decide`), so rejections and refusals are the wallet's own answers.
import {
  getBase64EncodedWireTransaction,
  getBase58Encoder,
  getSignatureFromTransaction,
  getTransactionDecoder,
  getTransactionEncoder,
  partiallySignTransaction,
  type Rpc,
  type SolanaRpcApi,
} from "@solana/kit";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { BrowserContext } from "playwright-core";

import type { LoadedWallet } from "../../src/client/index.js";

export type WalletOperation = "signTransaction" | "signAndSendTransaction" | "signMessage";

const FEATURES: Record<WalletOperation, string> = {
  signTransaction: "solana:signTransaction",
  signAndSendTransaction: "solana:signAndSendTransaction",
  signMessage: "solana:signMessage",
};

/** What the wallet answers: approve, the person declines (EIP-1193 4001), or the wallet cannot. */
export type Decision = "approve" | "reject" | { refuse: string };

export interface TestWalletSpec {
  name: string;
  wallet: LoadedWallet;
  operations: readonly WalletOperation[];
  /** Asked before each request is answered; may act on the chain first (a race). Default approve. */
  decide?: (operation: WalletOperation) => Decision | Promise<Decision>;
}

export interface TestWallet extends TestWalletSpec {
  /** Every request the page made, in order. */
  readonly requests: WalletOperation[];
  /** The signatures this wallet produced for signMessage (to look for them where they must not be). */
  readonly messageSignatures: Uint8Array[];
}

type Reply = { ok: number[] } | { error: { message: string; code?: number } };

/** Registers the wallets in every page of `context` (before any page script runs). */
export async function installTestWallets(context: BrowserContext, rpc: Rpc<SolanaRpcApi>, specs: readonly TestWalletSpec[]): Promise<TestWallet[]> {
  const wallets: TestWallet[] = specs.map((s) => ({ ...s, requests: [], messageSignatures: [] }));
  await context.exposeBinding("__dataMarketTestWallet", async (_source, index: number, operation: WalletOperation, bytes: number[]): Promise<Reply> => {
    const wallet = wallets[index]!;
    wallet.requests.push(operation);
    const decision = (await wallet.decide?.(operation)) ?? "approve";
    if (decision === "reject") return { error: { message: "User rejected the request.", code: 4001 } };
    if (typeof decision === "object") return { error: { message: decision.refuse } };
    const input = Uint8Array.from(bytes);
    try {
      if (operation === "signMessage") {
        const signature = ed25519.sign(input, wallet.wallet.secretKey.subarray(0, 32));
        wallet.messageSignatures.push(signature);
        return { ok: [...signature] };
      }
      const transaction = await partiallySignTransaction([wallet.wallet.signer.keyPair], getTransactionDecoder().decode(input));
      if (operation === "signTransaction") return { ok: [...getTransactionEncoder().encode(transaction)] };
      await rpc.sendTransaction(getBase64EncodedWireTransaction(transaction), { encoding: "base64", preflightCommitment: "confirmed" }).send();
      return { ok: [...getBase58Encoder().encode(getSignatureFromTransaction(transaction))] };
    } catch (error) {
      return { error: { message: error instanceof Error ? error.message : String(error) } };
    }
  });
  const pageSpecs = wallets.map((w) => ({
    name: w.name,
    address: w.wallet.signer.address,
    publicKey: [...getBase58Encoder().encode(w.wallet.signer.address)],
    features: w.operations.map((o) => FEATURES[o]),
  }));
  // As source text: the TypeScript loader may wrap named functions in a `__name` helper, which the
  // page does not have.
  await context.addInitScript({ content: `var __name = (f) => f;\n(${registerInPage.toString()})(${JSON.stringify(pageSpecs)});` });
  return wallets;
}

/** Runs in the page: one Wallet Standard wallet per spec, registered through the standard's events. */
function registerInPage(specs: { name: string; address: string; publicKey: number[]; features: string[] }[]) {
  const call = (window as unknown as { __dataMarketTestWallet(i: number, op: string, bytes: number[]): Promise<Reply> }).__dataMarketTestWallet;
  const ask = async (index: number, operation: string, bytes: Uint8Array): Promise<Uint8Array> => {
    const reply = await call(index, operation, [...bytes]);
    if ("error" in reply) throw Object.assign(new Error(reply.error.message), reply.error.code === undefined ? {} : { code: reply.error.code });
    return Uint8Array.from(reply.ok);
  };
  const icon = "data:image/svg+xml;base64," + btoa('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#888"/></svg>');
  specs.forEach((spec, index) => {
    const account = Object.freeze({
      address: spec.address,
      publicKey: Uint8Array.from(spec.publicKey),
      chains: Object.freeze(["solana:devnet"]),
      features: Object.freeze([...spec.features]),
      label: spec.name,
    });
    let accounts: (typeof account)[] = [];
    const listeners = new Set<(properties: { accounts: typeof accounts }) => void>();
    const versions = { supportedTransactionVersions: Object.freeze(["legacy", 0]) };
    const features: Record<string, unknown> = {
      "standard:connect": {
        version: "1.0.0",
        connect: async () => {
          accounts = [account];
          listeners.forEach((l) => l({ accounts }));
          return { accounts };
        },
      },
      "standard:disconnect": {
        version: "1.0.0",
        disconnect: async () => {
          accounts = [];
          listeners.forEach((l) => l({ accounts }));
        },
      },
      "standard:events": {
        version: "1.0.0",
        on: (event: string, listener: (properties: { accounts: typeof accounts }) => void) => {
          if (event !== "change") return () => {};
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
    };
    if (spec.features.includes("solana:signTransaction")) {
      features["solana:signTransaction"] = {
        version: "1.0.0",
        ...versions,
        signTransaction: (...inputs: { transaction: Uint8Array }[]) =>
          Promise.all(inputs.map(async (i) => ({ signedTransaction: await ask(index, "signTransaction", i.transaction) }))),
      };
    }
    if (spec.features.includes("solana:signAndSendTransaction")) {
      features["solana:signAndSendTransaction"] = {
        version: "1.0.0",
        ...versions,
        signAndSendTransaction: (...inputs: { transaction: Uint8Array }[]) =>
          Promise.all(inputs.map(async (i) => ({ signature: await ask(index, "signAndSendTransaction", i.transaction) }))),
      };
    }
    if (spec.features.includes("solana:signMessage")) {
      features["solana:signMessage"] = {
        version: "1.0.0",
        signMessage: (...inputs: { message: Uint8Array }[]) =>
          Promise.all(inputs.map(async (i) => ({ signedMessage: i.message, signature: await ask(index, "signMessage", i.message) }))),
      };
    }
    const wallet = Object.freeze({
      version: "1.0.0",
      name: spec.name,
      icon,
      chains: Object.freeze(["solana:devnet"]),
      features: Object.freeze(features),
      get accounts() {
        return accounts.slice();
      },
    });
    // The standard's handshake: announce to an app already listening, and answer an app that
    // starts later.
    const callback = ({ register }: { register(wallet: unknown): unknown }) => register(wallet);
    window.dispatchEvent(new CustomEvent("wallet-standard:register-wallet", { detail: callback }));
    window.addEventListener("wallet-standard:app-ready", (event: Event) => callback((event as CustomEvent).detail));
  });
}
