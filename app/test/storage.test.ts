import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { FsBlockstore } from 'blockstore-fs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 as multihashSha256 } from 'multiformats/hashes/sha2'
import {
  ContentNotFoundError,
  HeliaContentStore,
  KuboContentStore,
  openContentStore,
  openContentStoreFromUrl,
  StorageError,
  type ContentStore,
} from '../src/storage/index.js'
import { collect, MiB, pieces, random } from './helpers.js'

async function absentCid(): Promise<string> {
  const digest = await multihashSha256.digest(random(64))
  return CID.createV1(raw.code, digest).toString()
}

function hashOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

describe('embedded Helia content store (offline)', () => {
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'helia-store-test-'))
  })
  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  test('content and JSON survive a restart of the node on the same directory', async () => {
    const directory = join(root, 'repo')
    const file = random(5 * MiB + 333)
    const filePath = join(root, 'input.bin')
    await writeFile(filePath, file)
    const streamed = random(1500 * 1024)
    const metadata = { title: 'Street scenes', tags: ['vision', 'urban'], size: file.length, nested: { b: 2, a: 1 } }

    const started = Date.now()
    let store: ContentStore = await HeliaContentStore.open({ directory })
    assert.ok(Date.now() - started < 10_000, 'start-up must not wait for a network')
    const fileCid = await store.addFile(filePath)
    const streamCid = await store.addFile(pieces(streamed, 100_000))
    const jsonCid = await store.addJson(metadata)
    assert.match(fileCid, /^bafy/) // CIDv1 dag-pb: a multi-chunk UnixFS file
    assert.match(jsonCid, /^bafk/) // CIDv1 raw: one block
    assert.equal(await store.has(fileCid), true)
    // the same bytes from a path or a stream give the same CID
    assert.equal(await store.addFile(pieces(file, 65_536)), fileCid)
    // key order does not change the JSON's CID
    assert.equal(await store.addJson({ nested: { a: 1, b: 2 }, size: file.length, tags: ['vision', 'urban'], title: 'Street scenes' }), jsonCid)
    await store.stop()

    store = await openContentStore({ directory })
    try {
      assert.equal(await store.has(fileCid), true)
      assert.equal(await store.has(streamCid), true)
      assert.equal(hashOf(await collect(store.cat(fileCid))), hashOf(file))
      assert.equal(hashOf(await collect(store.cat(streamCid))), hashOf(streamed))
      const json = JSON.parse(new TextDecoder().decode(await collect(store.cat(jsonCid))))
      assert.deepEqual(json, metadata)
      // a reader may stop early; the node still stops cleanly afterwards
      for await (const piece of store.cat(fileCid)) {
        assert.ok(piece.length > 0)
        break
      }
    } finally {
      await store.stop()
    }
  })

  test('a CID that is not held fails at once with ContentNotFoundError', async () => {
    const store = await HeliaContentStore.open({ directory: join(root, 'empty') })
    try {
      const cid = await absentCid()
      assert.equal(await store.has(cid), false)
      const started = Date.now()
      await assert.rejects(collect(store.cat(cid)), (err: unknown) => {
        assert.ok(err instanceof ContentNotFoundError)
        assert.equal(err.code, 'CONTENT_NOT_FOUND')
        assert.equal(err.cid, cid)
        assert.match(err.message, /not found/)
        return true
      })
      assert.ok(Date.now() - started < 5_000, 'a missing CID must not hang')
    } finally {
      await store.stop()
    }
  })

  test('a file with a block missing from disk fails with ContentNotFoundError, not a hang', async () => {
    const directory = join(root, 'damaged')
    let store = await HeliaContentStore.open({ directory })
    const cid = await store.addFile(pieces(random(3 * MiB + 1)))
    await store.stop()

    const blocks = new FsBlockstore(join(directory, 'blocks'))
    await blocks.open()
    let removed = false
    for await (const { cid: blockCid } of blocks.getAll()) {
      if (blockCid.toString() !== cid) {
        await blocks.delete(blockCid)
        removed = true
        break
      }
    }
    assert.ok(removed)

    store = await HeliaContentStore.open({ directory })
    try {
      const started = Date.now()
      await assert.rejects(collect(store.cat(cid)), ContentNotFoundError)
      assert.ok(Date.now() - started < 5_000)
    } finally {
      await store.stop()
    }
  })

  test('invalid CIDs and use after stop give clear errors', async () => {
    const store = await HeliaContentStore.open({ directory: join(root, 'misc') })
    await assert.rejects(store.has('not-a-cid'), (err: unknown) => err instanceof StorageError && err.code === 'INVALID_CID')
    await assert.rejects(collect(store.cat('Qm123')), (err: unknown) => err instanceof StorageError && err.code === 'INVALID_CID')
    await store.stop()
    await store.stop() // idempotent
    await assert.rejects(store.addJson({}), (err: unknown) => err instanceof StorageError && err.code === 'STORE_STOPPED')
  })

  test('addJson refuses values JSON cannot represent', async () => {
    const store = await HeliaContentStore.open({ directory: join(root, 'json') })
    try {
      await assert.rejects(store.addJson({ a: 1n }), TypeError)
      await assert.rejects(store.addJson({ a: undefined }), TypeError)
    } finally {
      await store.stop()
    }
  })

  test('a URL selects the backend: http(s) is a Kubo RPC API, a path the embedded node', async () => {
    // constructing the Kubo client sends no request
    const kubo = await openContentStoreFromUrl('http://127.0.0.1:5001')
    assert.ok(kubo instanceof KuboContentStore)
    await kubo.stop()
    const local = await openContentStoreFromUrl(join(root, 'from-url'))
    assert.ok(local instanceof HeliaContentStore)
    assert.equal(local.online, false)
    await local.stop()
  })
})

describe('embedded Helia content store, peer to peer over TCP', () => {
  let root: string
  let owner: HeliaContentStore
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'helia-p2p-test-'))
    owner = await HeliaContentStore.open({ directory: join(root, 'owner'), p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
  })
  after(async () => {
    await owner.stop()
    await rm(root, { recursive: true, force: true })
  })

  test("a buyer's node fetches a multi-block file from the owner's node it dials, and keeps it", async () => {
    const data = random(6 * MiB + 321)
    const cid = await owner.addFile(pieces(data))
    const [address] = owner.listenAddresses()
    assert.match(address ?? '', /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/)
    const buyerDir = join(root, 'buyer')
    const buyer = await HeliaContentStore.open({ directory: buyerDir, p2p: { peers: [address!] }, catTimeoutMs: 10_000 })
    try {
      assert.equal(await buyer.has(cid), false)
      assert.equal(hashOf(await collect(buyer.cat(cid))), hashOf(data))
    } finally {
      await buyer.stop()
    }
    // The fetched blocks are in the buyer's blockstore: a later offline node still has the file.
    const offline = await HeliaContentStore.open({ directory: buyerDir })
    try {
      assert.equal(hashOf(await collect(offline.cat(cid))), hashOf(data))
    } finally {
      await offline.stop()
    }
  })

  test("the node's peer id stays the same across restarts (buyers keep its address)", async () => {
    const dir = join(root, 'stable')
    const first = await HeliaContentStore.open({ directory: dir, p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
    const id = first.listenAddresses()[0]!.split('/p2p/')[1]
    await first.stop()
    const second = await HeliaContentStore.open({ directory: dir, p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
    try {
      assert.equal(second.listenAddresses()[0]!.split('/p2p/')[1], id)
    } finally {
      await second.stop()
    }
  })

  test('content no connected peer has fails with ContentNotFoundError after the timeout', async () => {
    const buyer = await HeliaContentStore.open({
      directory: join(root, 'buyer-missing'),
      p2p: { peers: owner.listenAddresses() },
      catTimeoutMs: 1_500,
    })
    try {
      const started = Date.now()
      await assert.rejects(collect(buyer.cat(await absentCid())), ContentNotFoundError)
      assert.ok(Date.now() - started < 10_000)
    } finally {
      await buyer.stop()
    }
  })

  test('an unreachable or malformed peer address is a clear error at start', async () => {
    const dead = owner.listenAddresses()[0]!.replace(/\/tcp\/\d+\//, '/tcp/1/')
    await assert.rejects(
      HeliaContentStore.open({ directory: join(root, 'dead'), p2p: { peers: [dead] }, catTimeoutMs: 3_000 }),
      (err: unknown) => err instanceof StorageError && err.code === 'PEER_UNREACHABLE' && err.message.includes(dead),
    )
    await assert.rejects(
      HeliaContentStore.open({ directory: join(root, 'bad'), p2p: { peers: ['not-a-multiaddr'] } }),
      (err: unknown) => err instanceof StorageError && err.code === 'INVALID_PEER',
    )
  })
})
