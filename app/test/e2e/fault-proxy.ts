// A JSON-RPC proxy on 127.0.0.1 in front of the test validator that misbehaves on purpose, the way
// a busy cluster's RPC node does: it drops transactions (answers sendTransaction with the
// signature, as a node does, and forwards nothing), answers late, answers HTTP 429, and loses
// confirmations (answers getSignatureStatuses with null for a signature the node knows). What it
// did is counted, so tests can check that each fault really happened.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { getBase58Decoder } from "@solana/kit";

export interface FaultPlan {
  /** Drop the first N sendTransaction requests. */
  dropSends?: number;
  /** Drop every sendTransaction of the first transaction (signature) seen, however often it is sent. */
  dropFirstSignature?: boolean;
  /** Delay the answer to the first `count` requests (of `methods`, or of any method) by `ms`. */
  delay?: { ms: number; count: number; methods?: readonly string[] };
  /** Answer HTTP 429 to the first N requests, or to every request. */
  rateLimit?: number | "always";
  /** Retry-After (seconds) sent with the 429s; none when absent. */
  retryAfterSeconds?: number;
  /**
   * Answer the first N getSignatureStatuses requests with null statuses (Infinity: all of them).
   * Lookups with searchTransactionHistory are answered truthfully unless `includingHistory`.
   */
  loseStatuses?: { count: number; includingHistory?: boolean };
}

export interface FaultCounts {
  requests: number;
  forwarded: number;
  droppedSends: number;
  delayed: number;
  rateLimited: number;
  statusesLost: number;
  /** sendTransaction requests seen, per signature (base58). */
  sends: Map<string, number>;
}

function emptyCounts(): FaultCounts {
  return { requests: 0, forwarded: 0, droppedSends: 0, delayed: 0, rateLimited: 0, statusesLost: 0, sends: new Map() };
}

interface RpcRequest {
  jsonrpc: "2.0";
  id: unknown;
  method: string;
  params?: unknown[];
}

export class FaultProxy {
  counts: FaultCounts = emptyCounts();
  private plan: FaultPlan = {};
  private firstSignature: string | undefined;

  private constructor(
    private readonly server: Server,
    private readonly upstream: string,
    readonly url: string,
  ) {}

  static async start(upstream: string): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((request, response) => {
      void proxy!.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
        response.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    proxy = new FaultProxy(server, upstream, `http://127.0.0.1:${port}`);
    return proxy;
  }

  /** Replaces the faults to inject and resets the counts. */
  set(plan: FaultPlan): void {
    this.plan = plan;
    this.counts = emptyCounts();
    this.firstSignature = undefined;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const rpc = JSON.parse(body) as RpcRequest;
    const plan = this.plan;
    const counts = this.counts;
    counts.requests += 1;

    if (plan.rateLimit === "always" || (plan.rateLimit !== undefined && counts.rateLimited < plan.rateLimit)) {
      counts.rateLimited += 1;
      const headers: Record<string, string> = { "content-type": "text/plain" };
      if (plan.retryAfterSeconds !== undefined) headers["retry-after"] = String(plan.retryAfterSeconds);
      response.writeHead(429, "Too Many Requests", headers);
      response.end("rate limited");
      return;
    }

    const delay = plan.delay;
    if (delay && counts.delayed < delay.count && (!delay.methods || delay.methods.includes(rpc.method))) {
      counts.delayed += 1;
      await new Promise((resolve) => setTimeout(resolve, delay.ms));
    }

    if (rpc.method === "sendTransaction") {
      const signature = signatureOf(String(rpc.params?.[0]));
      counts.sends.set(signature, (counts.sends.get(signature) ?? 0) + 1);
      this.firstSignature ??= signature;
      const dropFirst = plan.dropFirstSignature && signature === this.firstSignature;
      const dropCount = plan.dropSends !== undefined && counts.droppedSends < plan.dropSends;
      if (dropFirst || dropCount) {
        counts.droppedSends += 1;
        return reply(response, { jsonrpc: "2.0", id: rpc.id, result: signature });
      }
    }

    const upstream = await fetch(this.upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    const text = await upstream.text();
    counts.forwarded += 1;

    const lose = plan.loseStatuses;
    if (rpc.method === "getSignatureStatuses" && lose && counts.statusesLost < lose.count) {
      const config = (rpc.params?.[1] ?? {}) as { searchTransactionHistory?: boolean };
      if (!config.searchTransactionHistory || lose.includingHistory) {
        const answer = JSON.parse(text) as { result?: { value: unknown[] } };
        if (answer.result) {
          counts.statusesLost += 1;
          answer.result.value = answer.result.value.map(() => null);
          return reply(response, answer);
        }
      }
    }
    response.writeHead(upstream.status, { "content-type": "application/json" });
    response.end(text);
  }
}

/** The first signature of a base64 wire transaction (compact-u16 count, then 64-byte signatures), in base58. */
function signatureOf(base64: string): string {
  const bytes = Buffer.from(base64, "base64");
  const offset = bytes[0]! < 0x80 ? 1 : 2;
  return getBase58Decoder().decode(bytes.subarray(offset, offset + 64));
}

function reply(response: ServerResponse, value: unknown): void {
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify(value));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
