/**
 * The browser entry point (src/crypto/web.ts) must not reach Node-only code: walk its relative
 * import graph and check that no module imports `node:*` or uses Node globals.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const CRYPTO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'crypto')

test('src/crypto/web.ts and everything it imports are free of Node-only APIs', async () => {
  const seen = new Set<string>()
  const queue = [join(CRYPTO_DIR, 'web.ts')]
  while (queue.length > 0) {
    const file = queue.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    const source = await readFile(file, 'utf8')
    const specifiers = [...source.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!)
    for (const spec of specifiers) {
      assert.ok(!spec.startsWith('node:'), `${file} imports ${spec}`)
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
      else assert.match(spec, /^@noble\//, `${file} imports ${spec}: only @noble packages are allowed in browser code`)
    }
    const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
    assert.doesNotMatch(code, /\bBuffer\b|\bprocess\.|\brequire\(/, `${file} uses a Node global`)
  }
  assert.ok(seen.size >= 6, `walked ${seen.size} modules`)
  assert.ok(!seen.has(join(CRYPTO_DIR, 'stream-node.ts')))
})
