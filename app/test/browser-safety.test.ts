/**
 * Browser code must not reach Node-only code. Three entries are walked through their relative import
 * graphs: the crypto layer's browser entry (src/crypto/web.ts), the web dapp (web/src/main.tsx,
 * which reaches the SDK, the crypto layer and the client layer's universal part) and its download
 * worker (web/src/download/download.worker.ts, loaded by URL, not imported). No module may
 * import `node:*` or use a Node global, and bare imports come only from an allowed list.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CRYPTO_DIR = join(APP_DIR, 'src', 'crypto')

/** `./x.js` as written in TypeScript sources: the .ts or .tsx file (or a directory's index). */
function resolveRelative(from: string, spec: string): string {
  const base = resolve(dirname(from), spec)
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), join(base, 'index.ts')]
  const found = candidates.find((c) => /\.(ts|tsx|css)$/.test(c) && existsSync(c))
  assert.ok(found, `${from} imports ${spec}, which does not resolve`)
  return found
}

/** Every module reachable from `entry` by value imports (type-only imports vanish from bundles). */
async function walk(entry: string, allowedBare: RegExp): Promise<Set<string>> {
  const seen = new Set<string>()
  const queue = [entry]
  while (queue.length > 0) {
    const file = queue.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    if (file.endsWith('.css')) continue
    const source = await readFile(file, 'utf8')
    const code = source.replace(/\/\*[\s\S]*?\*\/|(^|[^:])\/\/.*$/gm, '$1')
    const statements = [
      ...code.matchAll(/(?:^|;|\n)\s*(import|export)(\s+type\b)?[^'"]*?from\s+['"]([^'"]+)['"]/g),
      ...code.matchAll(/(?:^|;|\n)\s*(import)()\s+['"]([^'"]+)['"]/g),
      ...code.matchAll(/\b(import)()\(\s*['"]([^'"]+)['"]\s*\)/g),
    ]
    for (const [, , typeOnly, spec] of statements) {
      if (typeOnly) continue
      assert.ok(!spec!.startsWith('node:'), `${file} imports ${spec}`)
      if (spec!.startsWith('.')) queue.push(resolveRelative(file, spec!))
      else assert.match(spec!, allowedBare, `${file} imports ${spec}, which is not on the browser allow list`)
    }
    assert.doesNotMatch(code, /\bBuffer\b|\bprocess\.|\brequire\(|__dirname|import\.meta\.dirname/, `${file} uses a Node global`)
  }
  return seen
}

test('src/crypto/web.ts and everything it imports are free of Node-only APIs', async () => {
  const seen = await walk(join(CRYPTO_DIR, 'web.ts'), /^@noble\//)
  assert.ok(seen.size >= 6, `walked ${seen.size} modules`)
  assert.ok(!seen.has(join(CRYPTO_DIR, 'stream-node.ts')))
})

const DAPP_ALLOWED =
  /^(@noble\/|@solana\/(kit|kit\/program-client-core|react)$|@solana-program\/(compute-budget|system|token)$|@wallet-standard\/(react|app|base|features)$|react$|react\/jsx-runtime$|react-dom\/client$|@ipld\/dag-pb$|ipfs-unixfs$|multiformats\/(cid|codecs\/raw)$)/

test('the web dapp (web/src/main.tsx) and everything it imports are free of Node-only code', async () => {
  const seen = await walk(join(APP_DIR, 'web', 'src', 'main.tsx'), DAPP_ALLOWED)
  const reached = (path: string) => seen.has(join(APP_DIR, path))
  // It does reach the shared layers (the dapp writes none of them again)...
  assert.ok(reached('src/client/universal.ts') && reached('src/client/purchase.ts') && reached('src/client/rpc.ts') && reached('src/client/download-core.ts'))
  assert.ok(reached('src/sdk/index.ts') && reached('src/sdk/search.ts') && reached('src/crypto/buyer-key.ts'))
  assert.ok(reached('src/client/publish-core.ts') && reached('src/storage/kubo-http.ts'))
  // ...and none of the Node-only modules.
  for (const nodeOnly of ['src/client/index.ts', 'src/client/keypair.ts', 'src/client/publish.ts', 'src/client/svm.ts', 'src/crypto/stream-node.ts', 'src/storage/index.ts']) {
    assert.ok(!reached(nodeOnly), `the web dapp reaches ${nodeOnly}`)
  }
})

test('the download worker (web/src/download/download.worker.ts) and everything it imports are free of Node-only code', async () => {
  const seen = await walk(join(APP_DIR, 'web', 'src', 'download', 'download.worker.ts'), DAPP_ALLOWED)
  const reached = (path: string) => seen.has(join(APP_DIR, path))
  assert.ok(reached('src/storage/trustless-reader.ts') && reached('src/crypto/web.ts') && reached('src/crypto/stream-web.ts'))
  for (const nodeOnly of ['src/storage/index.ts', 'src/storage/helia-store.ts', 'src/crypto/stream-node.ts', 'src/client/index.ts']) {
    assert.ok(!reached(nodeOnly), `the download worker reaches ${nodeOnly}`)
  }
})

// A worker is an entry of its own: the bundler follows `new Worker(new URL(...))`, an import walk does not.
test('the publish page\'s worker (web/src/publish/encrypt.worker.ts) and everything it imports are free of Node-only code', async () => {
  const seen = await walk(join(APP_DIR, 'web', 'src', 'publish', 'encrypt.worker.ts'), DAPP_ALLOWED)
  assert.ok(seen.has(join(APP_DIR, 'src/crypto/stream-web.ts')))
  assert.ok(!seen.has(join(APP_DIR, 'src/crypto/stream-node.ts')))
})
