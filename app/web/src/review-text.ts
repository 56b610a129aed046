// Review texts on IPFS, as the CLI stores them (`review submit --text`: one small file, CIDv1 with
// raw leaves, so its CID names a single raw block): added through the Kubo RPC in the settings,
// read back through the trustless gateway and kept only when its sha256 is the one on chain.
import { cidOfUri, metadataUri, sha256Utf8 } from "../../src/client/universal.js";
import { equalBytes } from "../../src/crypto/web.js";

function base(url: string): string {
  return url.replace(/\/+$/, "");
}

/** Adds `text` to the node behind `apiUrl` (Kubo RPC `add`); returns its ipfs:// URI. */
export async function addReviewText(apiUrl: string, text: string): Promise<string> {
  const body = new FormData();
  body.append("file", new Blob([new TextEncoder().encode(text)]), "review.txt");
  const response = await fetch(`${base(apiUrl)}/api/v0/add?cid-version=1&raw-leaves=true&chunker=size-1048576&pin=true`, { method: "POST", body });
  if (!response.ok) throw new Error(`the IPFS node at ${apiUrl} did not store the review text (HTTP ${response.status})`);
  const lines = (await response.text()).trim().split("\n");
  const last = JSON.parse(lines[lines.length - 1]!) as { Hash?: string };
  if (!last.Hash) throw new Error(`the IPFS node at ${apiUrl} gave no CID for the review text`);
  return metadataUri(last.Hash);
}

/** The review's text from the gateway, or null when it cannot be read or does not match `textHash`. */
export async function readReviewText(gatewayUrl: string, uri: string, textHash: Uint8Array, signal?: AbortSignal): Promise<string | null> {
  if (!uri.startsWith("ipfs://")) return null;
  try {
    const response = await fetch(`${base(gatewayUrl)}/ipfs/${cidOfUri(uri)}?format=raw`, { signal });
    if (!response.ok) return null;
    const text = new TextDecoder().decode(await response.arrayBuffer());
    return equalBytes(sha256Utf8(text), textHash) ? text : null;
  } catch {
    return null;
  }
}
