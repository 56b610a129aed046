/**
 * Client benchmark, one run on a generated file (1 GiB by default, BENCH_FILE_BYTES to change it):
 *
 *   1. `sha256sum` (the system binary) over the plaintext: the reference speed.
 *   2. encrypt + hash with the Node DMC1 implementation, file to file, as `dataset publish` does it:
 *      into a temporary ciphertext file that is not fsynced (it is read back into IPFS, then removed).
 *   3. download + decrypt + verify: the ciphertext is added to an embedded Helia node, then
 *      cat -> decrypt -> sha256 check -> output file written atomically (temp file + rename).
 *
 * Prints a table and writes target/bench/client.json (at the repository root). Throughputs are in
 * MB/s of plaintext (1 MB = 10^6 bytes); peak RSS is this process's maximum resident set in MB
 * (the sha256sum child is not included). Dirty pages are flushed (`sync`) before each timed phase
 * so one phase's write-back does not slow the next; writes inside a phase are fsynced where the
 * client fsyncs (the downloaded file, before and after its rename). Everything lives in a temporary directory that is removed at the end.
 */
import { spawn } from 'node:child_process'
import { createCipheriv, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decryptToFile, encryptFile, generateContentKey, toHex } from '../crypto/index.js'
import { HeliaContentStore } from '../storage/index.js'

const GiB = 1024 ** 3
const MB = 1e6
const FILE_BYTES = Number(process.env.BENCH_FILE_BYTES ?? GiB)
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const OUTPUT = join(REPO_ROOT, 'target', 'bench', 'client.json')

interface Phase {
  name: string
  seconds: number
  mbPerSecond: number
}

/** Writes `bytes` of AES-CTR keystream: incompressible, and faster to make than /dev/urandom. */
async function generateFile(path: string, bytes: number): Promise<void> {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16))
  const zeros = Buffer.alloc(4 * 1024 * 1024)
  const file = await open(path, 'w')
  try {
    for (let written = 0; written < bytes; ) {
      const n = Math.min(zeros.length, bytes - written)
      const piece = cipher.update(zeros.subarray(0, n))
      await file.write(piece)
      written += n
    }
  } finally {
    await file.close()
  }
}

function runSha256sum(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('sha256sum', ['--binary', path], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d: string) => (out += d))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`sha256sum exited with ${code}`))
      else resolvePromise(out.split(/\s/)[0] ?? '')
    })
  })
}

/** Flushes dirty pages so one phase's write-back does not slow the next one down. */
function flushPageCache(): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('sync', [], { stdio: 'inherit' })
    child.on('error', reject)
    child.on('close', () => resolvePromise())
  })
}

async function timed<T>(name: string, bytes: number, run: () => Promise<T>): Promise<{ result: T; phase: Phase }> {
  await flushPageCache()
  const start = process.hrtime.bigint()
  const result = await run()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return { result, phase: { name, seconds, mbPerSecond: bytes / MB / seconds } }
}

async function vmHwmBytes(): Promise<number | null> {
  try {
    const status = await readFile('/proc/self/status', 'utf8')
    const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1]
    return kb === undefined ? null : Number(kb) * 1024
  } catch {
    return null
  }
}

async function main(): Promise<void> {
  const startupRssBytes = process.memoryUsage().rss
  if (!Number.isInteger(FILE_BYTES) || FILE_BYTES <= 0) throw new Error('BENCH_FILE_BYTES must be a positive integer')
  const work = await mkdtemp(join(tmpdir(), 'data-market-client-bench-'))
  const plainPath = join(work, 'plain.bin')
  const cipherPath = join(work, 'plain.bin.dmc1')
  const outPath = join(work, 'downloaded.bin')
  let store: HeliaContentStore | null = null
  try {
    console.log(`generating ${(FILE_BYTES / GiB).toFixed(2)} GiB in ${work} ...`)
    await generateFile(plainPath, FILE_BYTES)

    const sha = await timed('sha256sum (system binary)', FILE_BYTES, () => runSha256sum(plainPath))

    const key = generateContentKey()
    const enc = await timed('encrypt + sha256 (node, file -> file)', FILE_BYTES, () =>
      encryptFile(plainPath, cipherPath, key, { durable: false }),
    )
    const contentHash = toHex(enc.result.sha256)
    if (contentHash !== sha.result) {
      throw new Error(`sha256 mismatch: sha256sum ${sha.result}, encrypt ${contentHash}`)
    }
    const cipherBytes = (await stat(cipherPath)).size

    store = await HeliaContentStore.open({ directory: join(work, 'ipfs') })
    const openStore = store
    const add = await timed('add ciphertext to Helia (not in JSON)', cipherBytes, () => openStore.addFile(cipherPath))
    const cid = add.result

    const dl = await timed('download + decrypt + verify (Helia cat -> file)', FILE_BYTES, () =>
      decryptToFile(openStore.cat(cid), outPath, key, { expectedSha256: enc.result.sha256 }),
    )
    if (dl.result.plaintextBytes !== FILE_BYTES || (await stat(outPath)).size !== FILE_BYTES) {
      throw new Error('the downloaded file does not have the original size')
    }
    await store.stop()
    store = null

    const maxRssBytes = process.resourceUsage().maxRSS * 1024
    const hwm = await vmHwmBytes()
    const peakRssBytes = Math.max(maxRssBytes, hwm ?? 0)
    const report = {
      file_bytes: FILE_BYTES,
      sha256sum_mb_s: round(sha.phase.mbPerSecond),
      encrypt_hash_mb_s: round(enc.phase.mbPerSecond),
      download_decrypt_verify_mb_s: round(dl.phase.mbPerSecond),
      peak_rss_mb: round(peakRssBytes / MB),
    }
    await mkdir(dirname(OUTPUT), { recursive: true })
    await writeFile(OUTPUT, JSON.stringify(report, null, 2) + '\n')

    const rows = [sha.phase, enc.phase, add.phase, dl.phase]
    console.log('')
    console.log(`file: ${FILE_BYTES} bytes plaintext, ${cipherBytes} bytes DMC1, CID ${cid}`)
    console.log(`sha256: ${contentHash}`)
    console.log('')
    console.log(`${'phase'.padEnd(50)} ${'seconds'.padStart(8)} ${'MB/s'.padStart(8)}`)
    for (const row of rows) {
      console.log(`${row.name.padEnd(50)} ${row.seconds.toFixed(2).padStart(8)} ${row.mbPerSecond.toFixed(0).padStart(8)}`)
    }
    console.log(`${'RSS after start-up, modules loaded (MB)'.padEnd(50)} ${''.padStart(8)} ${(startupRssBytes / MB).toFixed(0).padStart(8)}`)
    console.log(`${'peak RSS of this process (MB)'.padEnd(50)} ${''.padStart(8)} ${report.peak_rss_mb.toFixed(0).padStart(8)}`)
    console.log(
      `encrypt+hash / sha256sum: ${(enc.phase.mbPerSecond / sha.phase.mbPerSecond).toFixed(2)} (aim: at least 0.5)`,
    )
    console.log(`wrote ${OUTPUT}`)
  } finally {
    if (store !== null) await store.stop().catch(() => {})
    await rm(work, { recursive: true, force: true })
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
