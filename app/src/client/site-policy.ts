// The web dapp's Content Security Policy: scripts, styles and workers only from the site itself,
// and network connections only to the endpoints its config.json names (RPC, indexer, IPFS gateway
// and API, plus `allowedEndpoints` the settings panel may switch to). The build writes it into
// index.html; the project's static server rewrites it for the config.json it serves; the settings
// panel reads it back to refuse an endpoint the browser would block anyway.

export interface SiteEndpoints {
  rpcUrl: string;
  wsUrl?: string | null;
  indexerUrl?: string | null;
  ipfsGateway?: string | null;
  ipfsApi?: string | null;
  /** More endpoints (URLs or origins) people may choose in the settings. */
  allowedEndpoints?: readonly string[];
}

/** `https://host:port` of a URL, or null when it is not an http(s)/ws(s) URL. */
export function endpointOrigin(url: string): string | null {
  try {
    const parsed = new URL(url);
    return /^(https?|wss?):$/.test(parsed.protocol) ? parsed.origin : null;
  } catch {
    return null;
  }
}

export function sitePolicy(endpoints: SiteEndpoints): string {
  const listed = [endpoints.rpcUrl, endpoints.wsUrl, endpoints.indexerUrl, endpoints.ipfsGateway, endpoints.ipfsApi, ...(endpoints.allowedEndpoints ?? [])];
  const origins = [...new Set(listed.flatMap((url) => (url ? [endpointOrigin(url)] : [])).filter((o): o is string => o !== null))];
  const gateway = endpoints.ipfsGateway ? endpointOrigin(endpoints.ipfsGateway) : null;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob:${gateway ? ` ${gateway}` : ""}`,
    "font-src 'self'",
    `connect-src 'self' ${origins.join(" ")}`.trimEnd(),
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

/** The policy as the meta element index.html carries (frame-ancestors cannot be set this way). */
export function sitePolicyMeta(policy: string): string {
  return `<meta http-equiv="Content-Security-Policy" content="${policy.replace(/"/g, "&quot;")}" />`;
}

const META_PATTERN = /<meta http-equiv="Content-Security-Policy" content="[^"]*" \/>/;

/** index.html with its policy replaced by (or, without one, given) `policy`. */
export function withSitePolicy(html: string, policy: string): string {
  const meta = sitePolicyMeta(policy);
  return META_PATTERN.test(html) ? html.replace(META_PATTERN, meta) : html.replace(/<head>/, `<head>\n    ${meta}`);
}

/**
 * Whether `policy` lets the page connect to `url` (the page at `selfOrigin`). No policy (the
 * development server) allows everything.
 */
export function policyAllowsEndpoint(policy: string | null, url: string, selfOrigin: string): boolean {
  if (!policy) return true;
  const origin = endpointOrigin(url);
  if (!origin) return false;
  const connect = policy.split(";").map((d) => d.trim().split(/\s+/)).find((d) => d[0] === "connect-src");
  if (!connect) return false;
  return connect.slice(1).some((source) => (source === "'self'" ? origin === selfOrigin : source === origin));
}
