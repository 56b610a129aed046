// Where the dapp points: the static build's config.json, overridden by the settings panel
// (localStorage). Only endpoints and addresses are kept there, never a key or a signature.
export interface DappConfig {
  cluster: string;
  rpcUrl: string;
  wsUrl: string | null;
  programId: string;
  indexerUrl: string | null;
  ipfsGateway: string | null;
  ipfsApi: string | null;
}

export const SETTINGS_KEY = "data-market:settings";

export const PRESETS: Record<"localnet" | "devnet", Omit<DappConfig, "programId">> = {
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
  };
}

const FALLBACK: DappConfig = { ...PRESETS.devnet, programId: "" };

/** The build's config.json (next to index.html). */
export async function loadBuildConfig(): Promise<DappConfig> {
  const response = await fetch(new URL("config.json", document.baseURI));
  if (!response.ok) throw new Error(`config.json could not be read (HTTP ${response.status})`);
  return normalizeConfig(await response.json(), FALLBACK);
}

export function loadSavedSettings(base: DappConfig): DappConfig | null {
  const saved = localStorage.getItem(SETTINGS_KEY);
  if (!saved) return null;
  try {
    return normalizeConfig(JSON.parse(saved), base);
  } catch {
    return null;
  }
}

export function saveSettings(config: DappConfig): void {
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(config));
}

export function clearSettings(): void {
  localStorage.removeItem(SETTINGS_KEY);
}
