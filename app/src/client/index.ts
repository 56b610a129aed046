// The client layer shared by the CLI, the narrated journey and the web dapp: connections (RPC or
// embedded SVM), wallets, token set-up, and the flows that combine chain, crypto and IPFS.
export * from "./connection.js";
export * from "./clock.js";
export * from "./rpc.js";
export * from "./landing.js";
export * from "./wallet.js";
export * from "./keypair.js";
export * from "./tokens.js";
export * from "./amounts.js";
export * from "./errors.js";
export * from "./metadata.js";
export * from "./progress.js";
export * from "./publish.js";
export * from "./delivery.js";
export * from "./delegation.js";
export * from "./download.js";
export * from "./purchase.js";
