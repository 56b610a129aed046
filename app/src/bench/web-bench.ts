/**
 * Web dapp benchmark (`npm run bench:web`), one run against the local stack (validator on RPC port
 * BENCH_WEB_RPC_PORT, default 36899, and its IPFS node and gateway), the built site (`npm run
 * web:build` first) and Debian's chromium with a persistent profile, so OPFS is on disk:
 *
 *   1. The built bundle: bytes and gzip bytes of web/dist (JavaScript, CSS, HTML; the download
 *      worker is loaded only when a download starts, and is counted apart).
 *   2. First load: a fresh profile opens the site and waits until the browse page lists the
 *      dataset read from the chain (and the navigation timing's DOMContentLoaded and load).
 *   3. A generated file (1024 MiB by default; `--size <MiB>` or BENCH_WEB_MIB) published with the
 *      CLI, bought with the CLI, delivered with the CLI; then My licences, Download, until the page
 *      offers the verified file: licence checks, key opening, every block fetched from the gateway
 *      and hashed, DMC1 decryption, sha256 and the OPFS writes. MB/s of plaintext (1 MB = 10^6 bytes).
 *      The OPFS file's size and the download's sha256 are checked against the original.
 *   4. Memory: chromium's processes of this profile sampled from /proc every 200 ms during the
 *      download (the renderer, which runs the page and its worker, and all of them together).
 *
 * Next to it, the CLI's download + decrypt + verify from target/bench/client.json (npm run
 * bench:client) when that file exists. Prints a table and writes target/bench/web.json.
 * Reuses the browser tests' static server and Wallet Standard test wallet (keys stay in Node), so
 * it is type-checked with them (test/web/tsconfig.json: the page code needs the DOM types).
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { address, type Address } from '@solana/kit'
import { chromium, type BrowserContext } from 'playwright-core'

import { startLocalStack, type LocalStack } from '../localnet/stack.js'
import { runCliAt } from '../../test/e2e/helpers.js'
import { installTestWallets } from '../../test/web/test-wallets.js'
import { DIST_DIR, serveSite, type StaticSite } from '../../test/web/web-harness.js'
import { stackSiteConfig, type ServedConfig } from '../localnet/site.js'

const MiB = 1024 * 1024
const MB = 1e6
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const OUTPUT = join(REPO_ROOT, 'target', 'bench', 'web.json')
const CLIENT_REPORT = join(REPO_ROOT, 'target', 'bench', 'client.json')
const TITLE = 'Benchmark dataset'
const FILE_NAME = 'bench.bin'

function sizeMiB(): number {
  const flag = process.argv.indexOf('--size')
  const value = flag >= 0 ? process.argv[flag + 1] : process.env['BENCH_WEB_MIB']
  const mib = value === undefined ? 1024 : Number(value)
  if (!Number.isInteger(mib) || mib < 1) throw new Error(`--size takes a whole number of MiB, got ${value}`)
  return mib
}

/** AES-CTR keystream: incompressible, every 1 MiB block distinct. Returns its sha256. */
async function generateFile(path: string, bytes: number): Promise<string> {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16))
  const hash = createHash('sha256')
  const zeros = Buffer.alloc(4 * MiB)
  const file = await open(path, 'w')
  try {
    for (let written = 0; written < bytes; ) {
      const piece = cipher.update(zeros.subarray(0, Math.min(zeros.length, bytes - written)))
      hash.update(piece)
      await file.write(piece)
      written += piece.length
    }
  } finally {
    await file.close()
  }
  return hash.digest('hex')
}

async function bundleSizes(): Promise<{ bytes: number; gzipBytes: number; workerBytes: number; workerGzipBytes: number }> {
  const sizes = { bytes: 0, gzipBytes: 0, workerBytes: 0, workerGzipBytes: 0 }
  const files = [join(DIST_DIR, 'index.html'), ...(await readdir(join(DIST_DIR, 'assets'))).map((f) => join(DIST_DIR, 'assets', f))]
  for (const file of files) {
    if (!/\.(js|css|html)$/.test(file)) continue
    const data = await readFile(file)
    const gz = gzipSync(data, { level: 9 }).length
    if (/download\.worker/.test(file)) {
      sizes.workerBytes += data.length
      sizes.workerGzipBytes += gz
    } else {
      sizes.bytes += data.length
      sizes.gzipBytes += gz
    }
  }
  return sizes
}

/** RSS (bytes) of this profile's chromium processes (the browser and its descendants): the renderers, and all. */
async function chromiumRss(profile: string): Promise<{ renderer: number; total: number }> {
  // Chromium retitles its children, and the new title is one string with spaces, not NUL-separated.
  const processes = new Map<string, { ppid: string; rss: number; cmdline: string }>()
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8')
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ')
      processes.set(pid, { ppid: /PPid:\s+(\d+)/.exec(status)?.[1] ?? '0', rss: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024, cmdline })
    } catch {
      // the process ended meanwhile
    }
  }
  const ours = new Set([...processes].filter(([, p]) => p.cmdline.includes(`--user-data-dir=${profile} `)).map(([pid]) => pid))
  for (let grew = true; grew; ) {
    grew = false
    for (const [pid, p] of processes) {
      if (!ours.has(pid) && ours.has(p.ppid)) {
        ours.add(pid)
        grew = true
      }
    }
  }
  let renderer = 0
  let total = 0
  for (const pid of ours) {
    const p = processes.get(pid)!
    total += p.rss
    if (p.cmdline.includes('--type=renderer')) renderer += p.rss
  }
  return { renderer, total }
}

function round(x: number): number {
  return Math.round(x * 10) / 10
}

async function main(): Promise<void> {
  const mib = sizeMiB()
  const fileBytes = mib * MiB
  const rpcPort = Number(process.env['BENCH_WEB_RPC_PORT'] ?? 36_899)
  if (!existsSync(join(DIST_DIR, 'index.html'))) throw new Error('web/dist is missing: run npm run web:build first')
  const work = await mkdtemp(join(tmpdir(), 'web-bench-'))
  const profile = join(work, 'chromium-profile')
  const config: ServedConfig = { rpcUrl: '' }
  let site: StaticSite | null = null
  let stack: LocalStack | null = null
  let context: BrowserContext | null = null
  try {
    const bundle = await bundleSizes()
    site = await serveSite(DIST_DIR, () => config)
    console.log(`starting the local stack on RPC port ${rpcPort} in ${work} ...`)
    stack = await startLocalStack({ dir: work, rpcPort, faucetPort: rpcPort + 71, ipfs: { allowedOrigins: [new URL(site.url).origin] } })
    Object.assign(config, stackSiteConfig(stack))
    const store = stack.ipfs!.store
    const url = stack.url
    const cli = async (keypair: string, argv: string[]) => {
      const run = await runCliAt(url, keypair, argv, { store })
      if (run.code !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`)
      return run.stdout
    }

    console.log(`generating ${mib} MiB ...`)
    const plainPath = join(work, FILE_NAME)
    const sha256 = await generateFile(plainPath, fileBytes)
    console.log('publishing, buying and delivering with the CLI ...')
    const published = await cli(stack.wallets.owner.keypairPath, [
      '--json', 'dataset', 'publish', plainPath, '--title', TITLE, '--price', '1', '--mint', stack.market.usdc.address,
      '--delivery-window', '1h', '--dispute-window', '1h',
    ])
    const dataset: Address = address((JSON.parse(published) as { dataset: string }).dataset)
    await rm(plainPath)
    await cli(stack.wallets.buyer.keypairPath, ['license', 'buy', dataset, '--max-price', '1'])
    await cli(stack.wallets.owner.keypairPath, ['deliver'])

    const executablePath = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim()
    context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: ['--no-sandbox'], viewport: { width: 1100, height: 900 } })
    await installTestWallets(context, stack.connection.rpc, [
      { name: 'Phantom-like', wallet: stack.wallets.buyer.wallet, operations: ['signTransaction', 'signAndSendTransaction', 'signMessage'] },
    ])
    const page = context.pages()[0] ?? (await context.newPage())

    console.log('first load ...')
    const loadStart = performance.now()
    await page.goto(site.url)
    await page.getByRole('link', { name: TITLE }).waitFor({ timeout: 60_000 })
    const firstLoadMs = performance.now() - loadStart
    const navigation = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming
      return { domContentLoadedMs: n.domContentLoadedEventEnd, loadMs: n.loadEventEnd }
    })

    await page.goto(`${site.url}#/licences`)
    await page.getByRole('button', { name: 'Connect Phantom-like' }).click()
    await page.getByRole('button', { name: `Download ${TITLE}` }).waitFor()
    const idle = await chromiumRss(profile)
    let peak = { renderer: idle.renderer, total: idle.total }
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const now = await chromiumRss(profile)
        peak = { renderer: Math.max(peak.renderer, now.renderer), total: Math.max(peak.total, now.total) }
        await new Promise((ok) => setTimeout(ok, 200))
      }
    })()
    console.log('downloading in the browser ...')
    const started = performance.now()
    await page.getByRole('button', { name: `Download ${TITLE}` }).click()
    const verified = page.getByRole('status').filter({ hasText: 'Verified:' })
    const failed = page.getByRole('alert')
    await verified.or(failed).waitFor({ timeout: 3_600_000 })
    const seconds = (performance.now() - started) / 1000
    sampling = false
    await sampler
    if (await failed.count()) throw new Error(`the download failed: ${await failed.innerText()}`)

    // The OPFS file is on disk in the profile: its size, and its sha256 read back in the page.
    const opfs = await page.evaluate(`(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle("data-market-downloads");
      for await (const [name, handle] of dir.entries()) {
        const file = await handle.getFile();
        return { name, size: file.size };
      }
      return null;
    })()`) as { name: string; size: number } | null
    if (!opfs || opfs.size !== fileBytes) throw new Error(`the OPFS file has ${opfs?.size ?? 'no'} bytes, not ${fileBytes}`)
    const onPage = await verified.innerText()
    const cliReport = existsSync(CLIENT_REPORT)
      ? (JSON.parse(await readFile(CLIENT_REPORT, 'utf8')) as { file_bytes: number; download_decrypt_verify_mb_s: number; peak_rss_mb: number })
      : null

    const report = {
      file_bytes: fileBytes,
      sha256,
      browser_download_decrypt_verify_mb_s: round(fileBytes / MB / seconds),
      browser_download_seconds: round(seconds),
      renderer_rss_idle_mb: round(idle.renderer / MB),
      renderer_rss_peak_mb: round(peak.renderer / MB),
      chromium_rss_idle_mb: round(idle.total / MB),
      chromium_rss_peak_mb: round(peak.total / MB),
      cli_download_decrypt_verify_mb_s: cliReport?.download_decrypt_verify_mb_s ?? null,
      cli_file_bytes: cliReport?.file_bytes ?? null,
      cli_peak_rss_mb: cliReport?.peak_rss_mb ?? null,
      bundle_bytes: bundle.bytes,
      bundle_gzip_bytes: bundle.gzipBytes,
      worker_bytes: bundle.workerBytes,
      worker_gzip_bytes: bundle.workerGzipBytes,
      first_load_ms: Math.round(firstLoadMs),
      first_load_dom_content_loaded_ms: Math.round(navigation.domContentLoadedMs),
      first_load_load_event_ms: Math.round(navigation.loadMs),
    }
    await mkdir(dirname(OUTPUT), { recursive: true })
    await writeFile(OUTPUT, JSON.stringify(report, null, 2) + '\n')

    const line = (name: string, value: string) => console.log(`${name.padEnd(58)} ${value.padStart(12)}`)
    console.log('')
    console.log(`file: ${fileBytes} bytes plaintext, sha256 ${sha256}; the page said: ${onPage.split('\n')[0]}`)
    console.log('')
    line('browser download + decrypt + verify into OPFS (MB/s)', report.browser_download_decrypt_verify_mb_s.toFixed(1))
    line('  seconds, click to verified file', report.browser_download_seconds.toFixed(1))
    line(
      `CLI download + decrypt + verify (MB/s, client.json${cliReport ? `, ${cliReport.file_bytes} B` : ''})`,
      cliReport ? cliReport.download_decrypt_verify_mb_s.toFixed(1) : 'not measured',
    )
    line('chromium renderer RSS, before -> peak (MB)', `${report.renderer_rss_idle_mb.toFixed(0)} -> ${report.renderer_rss_peak_mb.toFixed(0)}`)
    line('chromium, all processes of the profile, before -> peak (MB)', `${report.chromium_rss_idle_mb.toFixed(0)} -> ${report.chromium_rss_peak_mb.toFixed(0)}`)
    line('bundle: JS + CSS + HTML, gzip (kB)', (report.bundle_gzip_bytes / 1000).toFixed(1))
    line('  uncompressed (kB)', (report.bundle_bytes / 1000).toFixed(1))
    line('download worker, gzip (kB; loaded on first download)', (report.worker_gzip_bytes / 1000).toFixed(1))
    line('first load: open to datasets listed from the chain (ms)', String(report.first_load_ms))
    line('  DOMContentLoaded / load event (ms)', `${report.first_load_dom_content_loaded_ms} / ${report.first_load_load_event_ms}`)
    console.log(`wrote ${OUTPUT}`)
  } finally {
    await context?.close().catch(() => {})
    await site?.close().catch(() => {})
    await stack?.stop().catch(() => {})
    await rm(work, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
