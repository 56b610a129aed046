// Helpers of scripts/deploy-rehearsal.sh for what a bare local validator lacks and devnet has. Not
// part of the deploy a user follows.
//
//   node --import tsx scripts/deploy-rehearsal.ts test-token --url <rpc> --keypair <payer> --to <address>=<amount>...
//       creates a 6-decimal token minted by <payer> (the stand-in for devnet USDC) and mints
//       <amount> whole tokens to each <address>; prints the mint's address
//   node --import tsx scripts/deploy-rehearsal.ts missing-program --url <rpc> --keypair <payer> <program>
//       prints the error a transaction calling <program> gets in simulation (nothing is sent), or
//       "none" when the call does not fail to load the program
import { parseArgs } from "node:util";

import {
  address,
  appendTransactionMessageInstruction,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from "@solana/kit";

import { createMint, fetchMintInfo, loadKeypairFile, mintTo, RpcConnection } from "../src/client/index.js";

const TEST_TOKEN_DECIMALS = 6;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    keypair: { type: "string" },
    to: { type: "string", multiple: true, default: [] },
  },
});
const [command, ...rest] = positionals;
if (!values.url || !values.keypair) throw new Error("--url and --keypair are required");
const connection = new RpcConnection(values.url);
const payer = (await loadKeypairFile(values.keypair)).signer;

if (command === "test-token") {
  const mint = await fetchMintInfo(connection, await createMint(connection, payer, payer.address, TEST_TOKEN_DECIMALS));
  for (const entry of values.to!) {
    const [owner, amount] = entry.split("=");
    if (!owner || !amount) throw new Error(`--to ${entry}: expected <address>=<amount>`);
    await mintTo(connection, payer, mint, payer, address(owner), BigInt(amount) * 10n ** BigInt(TEST_TOKEN_DECIMALS));
  }
  console.log(mint.address);
} else if (command === "missing-program" && rest.length === 1) {
  const { value: blockhash } = await connection.rpc.getLatestBlockhash().send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstruction({ programAddress: address(rest[0]!), accounts: [], data: new Uint8Array() }, m),
  );
  const transaction = getBase64EncodedWireTransaction(await signTransactionMessageWithSigners(message));
  const { value } = await connection.rpc
    .simulateTransaction(transaction, { encoding: "base64", sigVerify: false, replaceRecentBlockhash: true })
    .send();
  console.log(value.err === null ? "none" : JSON.stringify(value.err));
} else {
  throw new Error("usage: deploy-rehearsal.ts test-token|missing-program --url <rpc> --keypair <file> ...");
}
