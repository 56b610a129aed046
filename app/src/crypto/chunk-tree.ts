/**
 * The chunk tree (FORMAT.md, *Chunk tree*): a Merkle tree over a dataset's plaintext chunks. Its
 * root is registered on chain and its leaves are in the metadata, so one chunk can be proven to
 * belong to the dataset (a preview) and each chunk of a download checked as it is decrypted.
 * Browser-safe: hashing is @noble/hashes, the trees are small (one leaf per chunk).
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { equalBytes } from './bytes.js'
import { CryptoError } from './errors.js'
import { MAX_CHUNKS, SHA256_LEN } from './format.js'

/** Domain separation: a leaf can never be read as an inner node, nor the other way round. */
export const CHUNK_LEAF_PREFIX = Uint8Array.of(0x00)
export const CHUNK_NODE_PREFIX = Uint8Array.of(0x01)

/** sha256(0x00 || chunk): the leaf of one plaintext chunk. */
export function chunkLeaf(plaintextChunk: Uint8Array): Uint8Array {
  return sha256.create().update(CHUNK_LEAF_PREFIX).update(plaintextChunk).digest()
}

function innerNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256.create().update(CHUNK_NODE_PREFIX).update(left).update(right).digest()
}

function checkLeaves(leaves: readonly Uint8Array[]): void {
  if (leaves.length === 0) {
    throw new CryptoError('INVALID_ARGUMENT', 'a chunk tree has at least one leaf (an empty plaintext is one empty chunk)')
  }
  if (leaves.length > MAX_CHUNKS) throw new CryptoError('INVALID_ARGUMENT', `a chunk tree has at most ${MAX_CHUNKS} leaves`)
  for (let i = 0; i < leaves.length; i++) {
    if (!(leaves[i] instanceof Uint8Array) || leaves[i]!.length !== SHA256_LEN) {
      throw new CryptoError('INVALID_ARGUMENT', `chunk tree leaf ${i} is not ${SHA256_LEN} bytes`)
    }
  }
}

/** The level above `nodes`: pairs hashed, an odd last node carried up unchanged. */
function nextLevel(nodes: readonly Uint8Array[]): Uint8Array[] {
  const up: Uint8Array[] = []
  for (let i = 0; i + 1 < nodes.length; i += 2) up.push(innerNode(nodes[i]!, nodes[i + 1]!))
  if (nodes.length % 2 === 1) up.push(nodes[nodes.length - 1]!)
  return up
}

/** The root over `leaves` (one leaf: the root is that leaf). */
export function chunkTreeRoot(leaves: readonly Uint8Array[]): Uint8Array {
  checkLeaves(leaves)
  let level: readonly Uint8Array[] = leaves
  while (level.length > 1) level = nextLevel(level)
  return Uint8Array.from(level[0]!)
}

function checkIndex(index: number, leafCount: number): boolean {
  return Number.isInteger(index) && index >= 0 && index < leafCount
}

/**
 * The siblings on the path from leaf `index` to the root, bottom-up. A level where the path's node
 * is carried up (the odd last node) contributes nothing, so the proof's length depends on the index
 * and the leaf count only.
 */
export function chunkTreeProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  return chunkTreeProofs(leaves, [index])[0]!
}

/** The proofs of several leaves, in the order of `indices`; the tree is hashed once for all. */
export function chunkTreeProofs(leaves: readonly Uint8Array[], indices: readonly number[]): Uint8Array[][] {
  checkLeaves(leaves)
  for (const index of indices) {
    if (!checkIndex(index, leaves.length)) {
      throw new CryptoError('INVALID_ARGUMENT', `chunk ${index} is not in a tree of ${leaves.length} chunks`)
    }
  }
  const proofs = indices.map((): Uint8Array[] => [])
  const at = indices.slice()
  let level: readonly Uint8Array[] = leaves
  while (level.length > 1) {
    for (let p = 0; p < at.length; p++) {
      const i = at[p]!
      const carried = i === level.length - 1 && level.length % 2 === 1
      if (!carried) proofs[p]!.push(Uint8Array.from(level[i % 2 === 0 ? i + 1 : i - 1]!))
      at[p] = Math.floor(i / 2)
    }
    level = nextLevel(level)
  }
  return proofs
}

/**
 * Whether `leaf` is leaf `index` of the tree of `leafCount` leaves whose root is `root`. The index
 * and the count decide at each level which side the sibling is on and whether the node is carried,
 * so a proof of any other length, or for another position, is refused. The root does not commit to
 * the count: pass the one registered with the root, not one the prover supplies.
 */
export function verifyChunkProof(
  root: Uint8Array,
  leaf: Uint8Array,
  index: number,
  leafCount: number,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isInteger(leafCount) || leafCount < 1 || leafCount > MAX_CHUNKS || !checkIndex(index, leafCount)) return false
  if (root.length !== SHA256_LEN || leaf.length !== SHA256_LEN) return false
  let node = leaf
  let at = index
  let width = leafCount
  let used = 0
  while (width > 1) {
    const carried = at === width - 1 && width % 2 === 1
    if (!carried) {
      const sibling = proof[used++]
      if (sibling === undefined || sibling.length !== SHA256_LEN) return false
      node = at % 2 === 0 ? innerNode(node, sibling) : innerNode(sibling, node)
    }
    // Not a shift: indices and counts reach 2^32, beyond 32-bit integers.
    at = Math.floor(at / 2)
    width = Math.ceil(width / 2)
  }
  return used === proof.length && equalBytes(node, root)
}
