/**
 * The chunk tree against FORMAT.md: roots from a reference written straight from the document with
 * node:crypto, every proof of every position, the refusals, and the document's test vector.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import {
  chunkLeaf,
  chunkTreeProof,
  chunkTreeProofs,
  chunkTreeRoot,
  CryptoError,
  fromHex,
  toHex,
  verifyChunkProof,
} from '../src/crypto/index.js'
import { random } from './helpers.js'

const h = (...parts: Uint8Array[]): Uint8Array => {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}

/** FORMAT.md, literally: hash pairs left to right, carry an odd last node, until one node is left. */
function referenceRoot(chunks: Uint8Array[]): Uint8Array {
  let level = chunks.map((c) => h(Uint8Array.of(0), c))
  while (level.length > 1) {
    const up: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) {
      up.push(i + 1 < level.length ? h(Uint8Array.of(1), level[i]!, level[i + 1]!) : level[i]!)
    }
    level = up
  }
  return level[0]!
}

/** The sides of a path's siblings, bottom-up, from FORMAT.md ('L' or 'R'; carried levels add none). */
function pathShape(index: number, count: number): string[] {
  const sides: string[] = []
  for (let at = index, width = count; width > 1; at = Math.floor(at / 2), width = Math.ceil(width / 2)) {
    if (!(at === width - 1 && width % 2 === 1)) sides.push(at % 2 === 0 ? 'R' : 'L')
  }
  return sides
}

const flipped = (bytes: Uint8Array, at = 0): Uint8Array => {
  const copy = Uint8Array.from(bytes)
  copy[at]! ^= 0x01
  return copy
}

describe('chunk tree', () => {
  test('leaves are sha256(0x00 || chunk), the empty chunk included', () => {
    for (const chunk of [new Uint8Array(0), random(1), random(1000)]) {
      assert.deepEqual(chunkLeaf(chunk), h(Uint8Array.of(0), chunk))
    }
  })

  test('roots of 1 to 17 leaves match the reference', () => {
    for (let n = 1; n <= 17; n++) {
      const chunks = Array.from({ length: n }, (_, i) => random(1 + i))
      assert.deepEqual(chunkTreeRoot(chunks.map(chunkLeaf)), referenceRoot(chunks), `${n} leaves`)
    }
  })

  test('one leaf is its own root, with an empty proof', () => {
    const leaf = chunkLeaf(random(10))
    assert.deepEqual(chunkTreeRoot([leaf]), leaf)
    assert.deepEqual(chunkTreeProof([leaf], 0), [])
    assert.equal(verifyChunkProof(leaf, leaf, 0, 1, []), true)
  })

  test('every proof of every position verifies, for 1 to 17 leaves', () => {
    for (let n = 1; n <= 17; n++) {
      const leaves = Array.from({ length: n }, () => chunkLeaf(random(8)))
      const root = chunkTreeRoot(leaves)
      for (let i = 0; i < n; i++) {
        const proof = chunkTreeProof(leaves, i)
        assert.ok(proof.length <= Math.ceil(Math.log2(n)), `${n} leaves, chunk ${i}: ${proof.length} siblings`)
        assert.equal(verifyChunkProof(root, leaves[i]!, i, n, proof), true, `${n} leaves, chunk ${i}`)
      }
    }
  })

  test('several proofs at once are the single proofs, in the order asked', () => {
    const leaves = Array.from({ length: 11 }, () => chunkLeaf(random(8)))
    const indices = [10, 0, 5, 5, 9]
    assert.deepEqual(chunkTreeProofs(leaves, indices), indices.map((i) => chunkTreeProof(leaves, i)))
    assert.deepEqual(chunkTreeProofs(leaves, []), [])
    assert.throws(() => chunkTreeProofs(leaves, [3, 11]), CryptoError)
  })

  test('a changed leaf, sibling or root, another index, another count or a cut or extended proof is refused', () => {
    for (const n of [2, 3, 5, 8, 13, 17]) {
      const leaves = Array.from({ length: n }, () => chunkLeaf(random(8)))
      const root = chunkTreeRoot(leaves)
      for (let i = 0; i < n; i++) {
        const leaf = leaves[i]!
        const proof = chunkTreeProof(leaves, i)
        const label = `${n} leaves, chunk ${i}`
        assert.equal(verifyChunkProof(root, flipped(leaf, 31), i, n, proof), false, `${label}: leaf`)
        assert.equal(verifyChunkProof(flipped(root, 7), leaf, i, n, proof), false, `${label}: root`)
        for (let s = 0; s < proof.length; s++) {
          const bad = proof.map((p, at) => (at === s ? flipped(p, 5) : p))
          assert.equal(verifyChunkProof(root, leaf, i, n, bad), false, `${label}: sibling ${s}`)
        }
        for (let j = 0; j < n; j++) {
          if (j !== i) assert.equal(verifyChunkProof(root, leaf, j, n, proof), false, `${label}: as chunk ${j}`)
        }
        // The root does not commit to the count (the chain registers it next to the root): under
        // another count the proof passes exactly when the path has the same shape, so the same leaf
        // at the same position, and fails otherwise.
        for (let m = i + 1; m <= 2 * n + 1; m++) {
          if (m === n) continue
          const same = JSON.stringify(pathShape(i, m)) === JSON.stringify(pathShape(i, n))
          assert.equal(verifyChunkProof(root, leaf, i, m, proof), same, `${label}: count ${m}`)
        }
        if (proof.length > 0) {
          assert.equal(verifyChunkProof(root, leaf, i, n, proof.slice(0, -1)), false, `${label}: cut`)
        }
        assert.equal(verifyChunkProof(root, leaf, i, n, [...proof, leaves[0]!]), false, `${label}: extended`)
      }
    }
  })

  test('a wrong count changes the path: chunk 2 of 3 is carried at the bottom, of 4 it is not', () => {
    const leaves = ['a', 'b', 'c', 'd'].map((c) => chunkLeaf(new TextEncoder().encode(c)))
    const three = leaves.slice(0, 3)
    const root = chunkTreeRoot(three)
    const proof = chunkTreeProof(three, 2)
    assert.equal(verifyChunkProof(root, three[2]!, 2, 3, proof), true)
    assert.equal(verifyChunkProof(root, three[2]!, 2, 4, proof), false)
    assert.equal(verifyChunkProof(root, three[2]!, 2, 5, proof), false)
    assert.equal(verifyChunkProof(chunkTreeRoot(leaves), leaves[2]!, 2, 3, chunkTreeProof(leaves, 2)), false)
  })

  test('impossible positions and malformed inputs are refused, not thrown on', () => {
    const leaves = Array.from({ length: 5 }, () => chunkLeaf(random(8)))
    const root = chunkTreeRoot(leaves)
    const proof = chunkTreeProof(leaves, 4)
    assert.equal(verifyChunkProof(root, leaves[4]!, 5, 5, proof), false)
    assert.equal(verifyChunkProof(root, leaves[4]!, -1, 5, proof), false)
    assert.equal(verifyChunkProof(root, leaves[4]!, 1.5, 5, proof), false)
    assert.equal(verifyChunkProof(root, leaves[4]!, 0, 0, []), false)
    assert.equal(verifyChunkProof(root.subarray(1), leaves[4]!, 4, 5, proof), false)
    assert.equal(verifyChunkProof(root, leaves[4]!, 4, 5, proof.map((p) => p.subarray(1))), false)
  })

  test('building a tree needs at least one 32-byte leaf and a position inside it', () => {
    assert.throws(() => chunkTreeRoot([]), CryptoError)
    assert.throws(() => chunkTreeRoot([random(31)]), CryptoError)
    assert.throws(() => chunkTreeProof([chunkLeaf(random(1))], 1), CryptoError)
  })

  test('the FORMAT.md vector: chunks "a", "b", "c"', () => {
    const leaves = ['a', 'b', 'c'].map((c) => chunkLeaf(new TextEncoder().encode(c)))
    assert.deepEqual(leaves.map(toHex), [
      '022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c',
      '57eb35615d47f34ec714cacdf5fd74608a5e8e102724e80b24b287c0c27b6a31',
      '597fcb31282d34654c200d3418fca5705c648ebf326ec73d8ddef11841f876d8',
    ])
    const node = 'b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb'
    assert.equal(toHex(chunkTreeRoot(leaves)), '36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1')
    assert.deepEqual(chunkTreeProof(leaves, 2), [fromHex(node)])
    assert.deepEqual(chunkTreeProof(leaves, 0), [leaves[1], leaves[2]])
  })
})
