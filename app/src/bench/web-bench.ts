/**
 * Web dapp benchmark (`npm run bench:web`, after `npm run web:build`):
 *
 *   1. The built bundle: every file of web/dist/assets, raw and gzip (level 9) bytes, and the total
 *      a first visit downloads (index.html, its scripts and styles).
 *   2. First load on the local stack: a validator with the program, one published dataset, the site
 *      served as `npm run dapp` serves it; each run is a fresh browser context (empty cache), timed
 *      from navigation start to the dataset list showing the dataset (read from the chain), with the
 *      navigation timing's DOMContentLoaded and load. BENCH_WEB_LOADS runs (10 by default).
 *
 * Prints a table and writes target/bench/web.json at the repository root.
 */
import { readdir, readFile, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

import { keypairWallet, licenseTerms } from "../client/index.js";
import { launchChromium } from "../localnet/browser.js";
import { serveSite, WEB_DIST_DIR } from "../localnet/site.js";
import { startLocalStack } from "../localnet/stack.js";
import { DATA_MARKET_PROGRAM_ADDRESS, DatasetCategory } from "../sdk/index.js";
import { publishDataset } from "../client/publish.js";
import { distribution, type Distribution } from "./stats.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const OUTPUT = join(REPO_ROOT, "target", "bench", "web.json");
const LOADS = Number(process.env.BENCH_WEB_LOADS ?? 10);
const RPC_PORT = 25_899;
const TITLE = "Benchmark dataset";

interface Asset {
  file: string;
  bytes: number;
  gzipBytes: number;
}

async function bundleAssets(): Promise<{ assets: Asset[]; firstVisit: { bytes: number; gzipBytes: number } }> {
  const assets: Asset[] = [];
  const measure = async (relative: string) => {
    const content = await readFile(join(WEB_DIST_DIR, relative));
    return { file: relative, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
  };
  for (const name of (await readdir(join(WEB_DIST_DIR, "assets"))).sort()) assets.push(await measure(join("assets", name)));
  const html = await readFile(join(WEB_DIST_DIR, "index.html"), "utf8");
  // What a first visit fetches: index.html and what it links (workers come later, when used).
  const linked = [...html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+)"/g)].map((m) => m[1]!);
  const firstVisitFiles = [await measure("index.html"), ...assets.filter((a) => linked.includes(a.file))];
  return {
    assets,
    firstVisit: {
      bytes: firstVisitFiles.reduce((sum, a) => sum + a.bytes, 0),
      gzipBytes: firstVisitFiles.reduce((sum, a) => sum + a.gzipBytes, 0),
    },
  };
}

interface LoadTimes {
  toDatasetListMs: Distribution;
  domContentLoadedMs: Distribution;
  loadMs: Distribution;
}

async function firstLoads(): Promise<LoadTimes> {
  const dir = await mkdtemp(join(tmpdir(), "web-bench-"));
  const stack = await startLocalStack({ dir, rpcPort: RPC_PORT, faucetPort: RPC_PORT + 71, ipfs: {} });
  try {
    const file = join(dir, "data.csv");
    await writeFile(file, "a,b\n1,2\n");
    await publishDataset(stack.connection, stack.ipfs!.store, keypairWallet(stack.wallets.owner.wallet), {
      file,
      title: TITLE,
      category: DatasetCategory.Tabular,
      tags: ["bench"],
      price: 1_000_000n,
      paymentMint: stack.market.usdc.address,
      terms: licenseTerms(),
      deliveryWindowSecs: 3_600,
      disputeWindowSecs: 86_400,
    });
    const site = await serveSite(WEB_DIST_DIR, {
      cluster: "localnet",
      rpcUrl: stack.url,
      wsUrl: null,
      programId: DATA_MARKET_PROGRAM_ADDRESS,
      indexerUrl: null,
      ipfsGateway: stack.ipfs!.url,
      ipfsApi: stack.ipfs!.url,
      tokens: { [stack.market.usdc.address]: "USDC" },
      allowedEndpoints: [],
    });
    const browser = await launchChromium();
    const toList: number[] = [];
    const domContentLoaded: number[] = [];
    const load: number[] = [];
    try {
      for (let run = 0; run < LOADS + 1; run++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(site.url);
        await page.getByRole("link", { name: TITLE }).waitFor({ timeout: 60_000 });
        const shown = await page.evaluate(() => performance.now());
        await page.waitForLoadState("load");
        // As source text: this file is compiled for Node, whose types lack the navigation entry.
        const timing = await page.evaluate<{ domContentLoaded: number; load: number }>(`(() => {
          const navigation = performance.getEntriesByType("navigation")[0];
          return { domContentLoaded: navigation.domContentLoadedEventEnd, load: navigation.loadEventEnd };
        })()`);
        await context.close();
        if (run === 0) continue; // warms the validator's account cache and the disk cache, not the browser's
        toList.push(shown);
        domContentLoaded.push(timing.domContentLoaded);
        load.push(timing.load);
      }
    } finally {
      await browser.close();
      await site.close();
    }
    return { toDatasetListMs: distribution(toList)!, domContentLoadedMs: distribution(domContentLoaded)!, loadMs: distribution(load)! };
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const kB = (bytes: number) => (bytes / 1000).toFixed(1);
const ms = (value: number) => value.toFixed(0);

async function main(): Promise<void> {
  try {
    await stat(join(WEB_DIST_DIR, "index.html"));
  } catch {
    throw new Error(`${WEB_DIST_DIR} has no index.html: run \`npm run web:build\` first`);
  }
  const bundle = await bundleAssets();
  const loads = await firstLoads();
  const result = { date: new Date().toISOString(), loadavg: loadavg().map((l) => Number(l.toFixed(2))), bundle, firstLoad: { runs: LOADS, ...loads } };
  await mkdir(dirname(OUTPUT), { recursive: true });
  await writeFile(OUTPUT, `${JSON.stringify(result, null, 2)}\n`);

  const rows: string[][] = [["file", "bytes", "gzip"]];
  for (const a of bundle.assets) rows.push([a.file, kB(a.bytes) + " kB", kB(a.gzipBytes) + " kB"]);
  rows.push(["first visit (index.html + linked)", kB(bundle.firstVisit.bytes) + " kB", kB(bundle.firstVisit.gzipBytes) + " kB"]);
  const width = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join("  "));
  console.log("");
  console.log(`first load on the local stack, ${LOADS} fresh contexts (ms)   p50   p95   max`);
  for (const [name, d] of [
    ["navigation start -> dataset list shown", loads.toDatasetListMs],
    ["DOMContentLoaded", loads.domContentLoadedMs],
    ["load", loads.loadMs],
  ] as const) {
    console.log(`  ${name.padEnd(56)}${ms(d.p50).padStart(6)}${ms(d.p95).padStart(6)}${ms(d.max).padStart(6)}`);
  }
  console.log(`\nwritten to ${OUTPUT}`);
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
