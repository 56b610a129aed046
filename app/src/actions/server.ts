// The Solana Actions endpoints over HTTP, mounted on the site that serves the dapp (actions.json
// must sit at the root of the domain the blink links point to):
//
//   GET  /actions.json                        rules mapping /buy/<dataset> onto the API
//   GET  /api/actions/dataset/<dataset>       the action (ActionGetResponse)
//   POST /api/actions/dataset/<dataset>       the purchase transaction for { account }
//   POST /api/actions/dataset/<dataset>/dapp  the dapp's page for the dataset (external link)
//   GET  /buy/<dataset>                       a person following the link lands on the dataset's page
//
// Every answer, OPTIONS included, carries the CORS headers the specification requires.
import type { IncomingMessage, ServerResponse } from "node:http";

import { ACTIONS_API_PATH, ActionRefusal, BLINK_PATH, actionsJson, datasetAction, datasetDappLink, datasetPurchase, type ActionsContext } from "./dataset-action.js";

export const ACTIONS_CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET,POST,PUT,OPTIONS",
  "access-control-allow-headers": "Content-Type, Authorization, Content-Encoding, Accept-Encoding, X-Accept-Action-Version, X-Accept-Blockchain-Ids",
  "access-control-expose-headers": "X-Action-Version, X-Blockchain-Ids",
} as const;
export const ACTION_VERSION = "2.4";
const MAX_BODY_BYTES = 16 * 1024;

export type RequestHandler = (request: IncomingMessage, response: ServerResponse, path: string) => Promise<boolean>;

async function readJson(request: IncomingMessage): Promise<unknown> {
  let size = 0;
  const pieces: Buffer[] = [];
  for await (const piece of request as AsyncIterable<Buffer>) {
    size += piece.length;
    if (size > MAX_BODY_BYTES) throw new ActionRefusal(413, "the request body is too large");
    pieces.push(piece);
  }
  try {
    return JSON.parse(Buffer.concat(pieces).toString("utf8"));
  } catch {
    throw new ActionRefusal(400, "the request body is not JSON");
  }
}

/** Handles the actions' paths; answers false for any other path (the site serves it). */
export function actionsHandler(ctx: ActionsContext): RequestHandler {
  let chainId: Promise<string> | null = null;
  // CAIP-2: "solana:" and the first 32 characters of the genesis hash.
  const blockchainId = () =>
    (chainId ??= ctx.connection.rpc
      .getGenesisHash()
      .send()
      .then((hash) => `solana:${hash.slice(0, 32)}`));

  return async (request, response, path) => {
    const isActions = path === "/actions.json" || path.startsWith("/api/actions/");
    if (path.startsWith(BLINK_PATH) && request.method === "GET") {
      const dataset = path.slice(BLINK_PATH.length);
      response.writeHead(302, { location: `/#/dataset/${encodeURIComponent(dataset)}`, ...ACTIONS_CORS_HEADERS }).end();
      return true;
    }
    if (!isActions) return false;
    const headers = { ...ACTIONS_CORS_HEADERS, "content-type": "application/json", "x-action-version": ACTION_VERSION, "x-blockchain-ids": await blockchainId().catch(() => "solana") };
    const send = (status: number, body: unknown) => response.writeHead(status, headers).end(JSON.stringify(body));
    try {
      if (request.method === "OPTIONS") {
        response.writeHead(204, headers).end();
        return true;
      }
      if (path === "/actions.json" && request.method === "GET") {
        send(200, actionsJson());
        return true;
      }
      if (!path.startsWith(ACTIONS_API_PATH)) throw new ActionRefusal(404, "no such action");
      const rest = path.slice(ACTIONS_API_PATH.length).split("/");
      const dataset = decodeURIComponent(rest[0] ?? "");
      const query = new URL(request.url ?? "/", "http://localhost").searchParams;
      if (rest.length === 1 && request.method === "GET") send(200, await datasetAction(ctx, dataset));
      else if (rest.length === 1 && request.method === "POST") send(200, await datasetPurchase(ctx, dataset, await readJson(request), query));
      else if (rest.length === 2 && rest[1] === "dapp" && request.method === "POST") send(200, await datasetDappLink(ctx, dataset));
      else throw new ActionRefusal(rest.length > 2 ? 404 : 405, "no such action");
    } catch (error) {
      if (error instanceof ActionRefusal) send(error.status, error.body);
      else {
        process.stderr.write(`actions: ${request.method} ${path} failed: ${error instanceof Error ? error.message : String(error)}\n`);
        send(500, { message: "The marketplace could not answer: try again later." });
      }
    }
    return true;
  };
}
