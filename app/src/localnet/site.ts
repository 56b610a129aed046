// Serves the built web dapp (app/web/dist) on 127.0.0.1 with a config.json of the server's choosing
// (the local stack's endpoints, or a test's), and index.html's Content Security Policy rewritten to
// allow exactly that config's endpoints.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { RequestHandler } from "../actions/server.js";
import { sitePolicy, withSitePolicy, type SiteEndpoints } from "../client/site-policy.js";
import { DATA_MARKET_PROGRAM_ADDRESS } from "../sdk/index.js";
import type { LocalStack } from "./stack.js";

export const WEB_DIST_DIR = fileURLToPath(new URL("../../web/dist", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** A config.json: the endpoints (which make the policy) and whatever else the dapp reads. */
export type ServedConfig = SiteEndpoints & Record<string, unknown>;

/** The dapp's config.json for a local stack: its validator, indexer, IPFS node and test USDC. */
export function stackSiteConfig(stack: LocalStack): ServedConfig {
  return {
    cluster: "localnet",
    rpcUrl: stack.url,
    wsUrl: null,
    programId: DATA_MARKET_PROGRAM_ADDRESS,
    indexerUrl: stack.indexer?.url ?? null,
    ipfsGateway: stack.ipfs?.url ?? null,
    ipfsApi: stack.ipfs?.url ?? null,
    tokens: { [stack.market.usdc.address]: "USDC" },
    allowedEndpoints: [],
  };
}

export interface StaticSite {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1:`port` (0: a free one), `/config.json` answered from `config` (read per
 * request, so a caller may change it between page loads); `handle` answers the paths it claims
 * first (the Solana Actions).
 */
export async function serveSite(
  dir: string,
  config: ServedConfig | (() => ServedConfig),
  port = 0,
  options: { handle?: RequestHandler } = {},
): Promise<StaticSite> {
  const root = resolve(dir);
  if (!existsSync(join(root, "index.html"))) throw new Error(`${root} has no index.html: run \`npm run web:build\` first`);
  const current = () => (typeof config === "function" ? config() : config);
  const server: Server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (options.handle && (await options.handle(request, response, path))) return;
    const headers = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-cache" };
    if (path === "/config.json") {
      response.writeHead(200, { ...headers, "content-type": TYPES[".json"]! }).end(JSON.stringify(current()));
      return;
    }
    const file = normalize(join(root, path === "/" ? "index.html" : path));
    if (!file.startsWith(root + "/") || !existsSync(file)) {
      response.writeHead(404, headers).end("not found");
      return;
    }
    if (file.endsWith("index.html")) {
      const html = withSitePolicy(await readFile(file, "utf8"), sitePolicy(current()));
      response.writeHead(200, { ...headers, "content-type": TYPES[".html"]! }).end(html);
      return;
    }
    response.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(await readFile(file));
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", ok);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
