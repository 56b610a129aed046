// The client layer shared by the CLI and the narrated journey: the universal part (connections,
// wallets, token set-up, purchases, delivery, delegation) plus the Node-only flows that read and
// write files (keypair files, publishing, download). The web dapp imports ./universal.js instead.
export * from "./universal.js";
export * from "./keypair.js";
export * from "./publish.js";
export * from "./download.js";
