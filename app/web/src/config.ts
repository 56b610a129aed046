// Where the dapp points: the static build's config.json, overridden by the settings panel
// (localStorage). Only endpoints and addresses are kept there, never a key or a signature.
import { isAddress } from "@solana/kit";

import { policyAllowsEndpoint } from "../../src/client/universal.js";

export interface DappConfig {
  cluster: string;
  rpcUrl: string;
  wsUrl: string | null;
  programId: string;
  indexerUrl: string | null;
  ipfsGateway: string | null;
  ipfsApi: string | null;
  /**
   * What people call the payment tokens the build knows (mint address -> symbol, e.g. USDC): from
   * config.json only, never from the settings; an unknown mint is shown by its address.
   */
  tokens: Record<string, string>;
  /**
   * Endpoints besides the ones above that the site's Content Security Policy lets the settings
   * point at (config.json only).
   */
  allowedEndpoints: string[];
}

export const SETTINGS_KEY = "data-market:settings";

export const PRESETS: Record<"localnet" | "devnet", Omit<DappConfig, "programId" | "tokens" | "allowedEndpoints">> = {
  localnet: {
    cluster: "localnet",
    rpcUrl: "http://127.0.0.1:8899",
    wsUrl: "ws://127.0.0.1:8900",
    indexerUrl: null,
    ipfsGateway: null,
    ipfsApi: null,
  },
  devnet: {
    cluster: "devnet",
    rpcUrl: "https://api.devnet.solana.com",
    wsUrl: "wss://api.devnet.solana.com",
    indexerUrl: null,
    ipfsGateway: null,
    ipfsApi: null,
  },
};

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

/** config.json's `tokens`: symbols (1 to 12 letters or digits) by mint address. */
function tokenSymbols(value: unknown): Record<string, string> | null {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  return Object.fromEntries(
    Object.entries(value).filter(
      (entry): entry is [string, string] => isAddress(entry[0]) && typeof entry[1] === "string" && /^[A-Za-z0-9]{1,12}$/.test(entry[1]),
    ),
  );
}

/** Keeps the known fields of a parsed object, with `base` for the rest. */
export function normalizeConfig(value: unknown, base: DappConfig): DappConfig {
  const v = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  return {
    cluster: text(v.cluster) ?? base.cluster,
    rpcUrl: text(v.rpcUrl) ?? base.rpcUrl,
    wsUrl: "wsUrl" in v ? text(v.wsUrl) : base.wsUrl,
    programId: text(v.programId) ?? base.programId,
    indexerUrl: "indexerUrl" in v ? text(v.indexerUrl) : base.indexerUrl,
    ipfsGateway: "ipfsGateway" in v ? text(v.ipfsGateway) : base.ipfsGateway,
    ipfsApi: "ipfsApi" in v ? text(v.ipfsApi) : base.ipfsApi,
    tokens: tokenSymbols(v.tokens) ?? base.tokens,
    allowedEndpoints: Array.isArray(v.allowedEndpoints) ? v.allowedEndpoints.filter((e): e is string => typeof e === "string") : base.allowedEndpoints,
  };
}

const FALLBACK: DappConfig = { ...PRESETS.devnet, programId: "", tokens: {}, allowedEndpoints: [] };

/** The build's config.json (next to index.html). */
export async function loadBuildConfig(): Promise<DappConfig> {
  const response = await fetch(new URL("config.json", document.baseURI));
  if (!response.ok) throw new Error(`config.json could not be read (HTTP ${response.status})`);
  return normalizeConfig(await response.json(), FALLBACK);
}

/** The Content Security Policy the page runs under (none on the development server). */
function pagePolicy(): string | null {
  return document.querySelector<HTMLMetaElement>('meta[http-equiv="Content-Security-Policy"]')?.content ?? null;
}

/** The endpoints of `config` the page's policy would not let it reach. */
export function blockedEndpoints(config: DappConfig): string[] {
  const policy = pagePolicy();
  return [config.rpcUrl, config.wsUrl, config.indexerUrl, config.ipfsGateway, config.ipfsApi].filter(
    (url): url is string => url !== null && !policyAllowsEndpoint(policy, url, window.location.origin),
  );
}

/** Saved settings, unless the site's policy no longer allows them (then the build's apply). */
export function loadSavedSettings(base: DappConfig): DappConfig | null {
  const saved = localStorage.getItem(SETTINGS_KEY);
  if (!saved) return null;
  try {
    const config = normalizeConfig(JSON.parse(saved), base);
    return blockedEndpoints(config).length === 0 ? config : null;
  } catch {
    return null;
  }
}

/** Keeps the endpoints (the token symbols and the allowed endpoints stay the build's). */
export function saveSettings(config: DappConfig): void {
  const { tokens: _buildsTokens, allowedEndpoints: _buildsPolicy, ...endpoints } = config;
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(endpoints));
}

export function clearSettings(): void {
  localStorage.removeItem(SETTINGS_KEY);
}
