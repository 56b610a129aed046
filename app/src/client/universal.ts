// The client layer's universal part: what runs unchanged in Node and in a browser bundle (the web
// dapp imports only this). Nothing reachable from here imports node:* (test/browser-safety.test.ts).
export * from "./connection.js";
export * from "./clock.js";
export * from "./rpc.js";
export * from "./landing.js";
export * from "./wallet.js";
export * from "./tokens.js";
export * from "./amounts.js";
export * from "./errors.js";
export * from "./metadata.js";
export * from "./progress.js";
export * from "./purchase.js";
export * from "./site-policy.js";
export * from "./usage.js";
export * from "./bill-of-data.js";
export * from "./delegation.js";
export * from "./delivery.js";
export * from "./download-core.js";
export * from "./publish-core.js";
export * from "./preview-bundle.js";
export * from "./preview.js";
