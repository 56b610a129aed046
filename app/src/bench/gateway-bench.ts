/**
 * Gateway benchmark (`npm run bench:gateway`), one run on a generated file (256 MiB by default,
 * BENCH_GATEWAY_BYTES to change it), server and client in this one process over 127.0.0.1:
 *
 *   1. Kubo RPC `add` through KuboContentStore (kubo-rpc-client, multipart upload, 1 MiB chunks,
 *      raw leaves, pinned) into a fresh embedded node served by the gateway.
 *   2. The trustless gateway's CAR of the file (`?format=car`), read by fetch and counted, three
 *      times; three times by curl (another process, to /dev/null), when curl is on PATH; then once
 *      more by fetch, parsed with @ipld/car and every block hashed (what a verifying client does).
 *      The peak growth of this process's RSS during the fetch reads is reported.
 *   3. Kubo RPC `cat` of the file through KuboContentStore, and the node's own `cat` without HTTP.
 *   4. Raw block latency: sequential GETs (`?format=raw`, keep-alive) of a small JSON block and of
 *      a 1 MiB leaf, after a warm-up; percentiles by nearest rank.
 *
 * Throughputs in MB/s of file bytes (1 MB = 10^6 bytes); the CAR's own bytes are slightly more.
 * Blocks are on disk (blockstore-fs) in a temporary directory, warm in the page cache after the
 * add. Prints a table and writes target/bench/gateway.json (at the repository root).
 */
import { spawn } from 'node:child_process'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CarBlockIterator } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { HeliaContentStore, KuboContentStore, startGateway } from '../storage/index.js'

const MiB = 1024 * 1024
const MB = 1e6
const FILE_BYTES = Number(process.env['BENCH_GATEWAY_BYTES'] ?? 256 * MiB)
const LATENCY_RUNS = 300
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const OUTPUT = join(REPO_ROOT, 'target', 'bench', 'gateway.json')

/** AES-CTR keystream: incompressible, every 1 MiB chunk distinct (no deduplicated blocks). */
function generate(bytes: number): Buffer {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16))
  return cipher.update(Buffer.alloc(bytes))
}

async function* inPieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, Math.min(data.length, i + size))
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = process.hrtime.bigint()
  const value = await work()
  return { value, seconds: Number(process.hrtime.bigint() - started) / 1e9 }
}

async function readCounting(response: Response): Promise<number> {
  let bytes = 0
  const reader = response.body!.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return bytes
    bytes += value.length
  }
}

/** curl's download of `url` to /dev/null: seconds and bytes, or null without curl. */
function curl(url: string): Promise<{ seconds: number; bytes: number } | null> {
  return new Promise((resolvePromise) => {
    const child = spawn('curl', ['-s', '-f', '-o', '/dev/null', '-w', '%{time_total} %{size_download}', url], { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d: string) => (out += d))
    child.on('error', () => resolvePromise(null))
    child.on('close', (code) => {
      const [seconds, bytes] = out.trim().split(' ').map(Number)
      resolvePromise(code === 0 && seconds !== undefined && bytes !== undefined ? { seconds, bytes } : null)
    })
  })
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'gateway-bench-'))
  const store = await HeliaContentStore.open({ directory: join(root, 'node') })
  const gateway = await startGateway({ store })
  const kubo = new KuboContentStore({ url: gateway.url })
  const results: Record<string, unknown> = {}
  const rows: [string, string][] = []
  try {
    const data = generate(FILE_BYTES)
    const digest = createHash('sha256').update(data).digest('hex')
    const mbps = (seconds: number) => FILE_BYTES / MB / seconds

    // 1. add through the RPC
    const added = await timed(() => kubo.addFile(inPieces(data, 256 * 1024)))
    const cid = added.value
    results['rpcAdd'] = { seconds: added.seconds, mbPerSecond: mbps(added.seconds) }
    rows.push(['Kubo RPC add (multipart upload, import, pin)', `${mbps(added.seconds).toFixed(0)} MB/s`])

    // 2. CAR through the gateway
    const carRuns: number[] = []
    let carBytes = 0
    let peakRssGrowth = 0
    for (let run = 0; run < 3; run++) {
      const baseline = process.memoryUsage().rss
      const sampler = setInterval(() => {
        peakRssGrowth = Math.max(peakRssGrowth, process.memoryUsage().rss - baseline)
      }, 20)
      const { value, seconds } = await timed(async () => readCounting(await fetch(`${gateway.url}/ipfs/${cid}?format=car`)))
      clearInterval(sampler)
      carBytes = value
      carRuns.push(seconds)
    }
    const carBest = Math.min(...carRuns)
    results['car'] = {
      carBytes,
      runsSeconds: carRuns,
      bestMbPerSecond: mbps(carBest),
      medianMbPerSecond: mbps([...carRuns].sort((a, b) => a - b)[1]!),
      peakRssGrowthMB: peakRssGrowth / MB,
    }
    rows.push([`gateway CAR, fetch and count (best of 3; median)`, `${mbps(carBest).toFixed(0)} MB/s; ${mbps([...carRuns].sort((a, b) => a - b)[1]!).toFixed(0)} MB/s`])
    rows.push(['  peak RSS growth during those reads', `${(peakRssGrowth / MB).toFixed(0)} MB`])

    const curlRuns: number[] = []
    for (let run = 0; run < 3; run++) {
      const result = await curl(`${gateway.url}/ipfs/${cid}?format=car`)
      if (result === null) break
      if (result.bytes !== carBytes) throw new Error(`curl read ${result.bytes} bytes of a ${carBytes}-byte CAR`)
      curlRuns.push(result.seconds)
    }
    if (curlRuns.length > 0) {
      const sorted = [...curlRuns].sort((a, b) => a - b)
      results['carCurl'] = { runsSeconds: curlRuns, bestMbPerSecond: mbps(sorted[0]!), medianMbPerSecond: mbps(sorted[Math.floor(sorted.length / 2)]!) }
      rows.push([`gateway CAR to curl, another process (best of 3; median)`, `${mbps(sorted[0]!).toFixed(0)} MB/s; ${mbps(sorted[Math.floor(sorted.length / 2)]!).toFixed(0)} MB/s`])
    }

    const verified = await timed(async () => {
      const response = await fetch(`${gateway.url}/ipfs/${cid}?format=car`)
      const blocks = await CarBlockIterator.fromIterable(
        (async function* () {
          const reader = response.body!.getReader()
          for (;;) {
            const { done, value } = await reader.read()
            if (done) return
            yield value
          }
        })(),
      )
      const file = createHash('sha256')
      let count = 0
      for await (const block of blocks) {
        const hash = createHash('sha256').update(block.bytes).digest()
        if (!hash.equals(Buffer.from(block.cid.multihash.digest))) throw new Error(`block ${block.cid} does not match its CID`)
        if (block.cid.code === 0x55) file.update(block.bytes) // raw leaves, in file order
        count++
      }
      if (file.digest('hex') !== digest) throw new Error('the CAR does not reassemble the file')
      return count
    })
    results['carVerified'] = { blocks: verified.value, seconds: verified.seconds, mbPerSecond: mbps(verified.seconds) }
    rows.push([`gateway CAR, parsed and every block hashed (${verified.value} blocks)`, `${mbps(verified.seconds).toFixed(0)} MB/s`])

    // 3. cat through the RPC, and without HTTP
    const rpcCat = await timed(async () => {
      const hash = createHash('sha256')
      for await (const piece of kubo.cat(cid)) hash.update(piece)
      return hash.digest('hex')
    })
    if (rpcCat.value !== digest) throw new Error('RPC cat returned other bytes')
    results['rpcCat'] = { seconds: rpcCat.seconds, mbPerSecond: mbps(rpcCat.seconds) }
    rows.push(['Kubo RPC cat (sha256 of the stream)', `${mbps(rpcCat.seconds).toFixed(0)} MB/s`])
    const directCat = await timed(async () => {
      const hash = createHash('sha256')
      for await (const piece of store.cat(cid)) hash.update(piece)
      return hash.digest('hex')
    })
    results['directCat'] = { seconds: directCat.seconds, mbPerSecond: mbps(directCat.seconds) }
    rows.push(['the node\'s own cat, no HTTP (sha256 of the stream)', `${mbps(directCat.seconds).toFixed(0)} MB/s`])

    // 4. raw block latency
    const small = await store.addJson({ title: 'Support chats', tags: ['chat', 'nlp'], price: '10' })
    const leaf = dagPb.decode(await store.getBlock(CID.parse(cid))).Links[0]!.Hash.toString()
    const latency: Record<string, unknown> = {}
    for (const [name, block] of [
      ['small JSON block', small],
      ['1 MiB leaf block', leaf],
    ] as const) {
      const samples: number[] = []
      let size = 0
      for (let i = 0; i < LATENCY_RUNS + 20; i++) {
        const { value, seconds } = await timed(async () => (await fetch(`${gateway.url}/ipfs/${block}?format=raw`)).arrayBuffer())
        size = value.byteLength
        if (i >= 20) samples.push(seconds * 1000)
      }
      samples.sort((a, b) => a - b)
      const summary = { bytes: size, runs: LATENCY_RUNS, p50Ms: percentile(samples, 50), p90Ms: percentile(samples, 90), p99Ms: percentile(samples, 99) }
      latency[name] = summary
      rows.push([`raw block latency, ${name} (${size} B), p50 / p90 / p99`, `${summary.p50Ms.toFixed(2)} / ${summary.p90Ms.toFixed(2)} / ${summary.p99Ms.toFixed(2)} ms`])
    }
    results['rawLatency'] = latency

    const report = {
      fileBytes: FILE_BYTES,
      cid,
      node: process.version,
      cpus: cpus().length,
      loadAverageAtEnd: loadavg()[0],
      ...results,
    }
    await mkdir(dirname(OUTPUT), { recursive: true })
    await writeFile(OUTPUT, `${JSON.stringify(report, null, 2)}\n`)
    const width = Math.max(...rows.map(([label]) => label.length))
    process.stdout.write(`gateway benchmark: ${(FILE_BYTES / MiB).toFixed(0)} MiB file ${cid}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}\n`)
    for (const [label, value] of rows) process.stdout.write(`  ${label.padEnd(width)}  ${value}\n`)
    process.stdout.write(`written to ${OUTPUT}\n`)
  } finally {
    await kubo.stop()
    await gateway.close()
    await store.stop()
    await rm(root, { recursive: true, force: true })
  }
}

await main()
