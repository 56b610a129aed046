/**
 * The embedded node over HTTP (src/storage/gateway.ts): the Trustless Gateway (raw blocks and CAR
 * streams, checked with @ipld/car's reader and by hashing every block), its headers, CORS and
 * errors; the Kubo RPC subset through kubo-rpc-client (KuboContentStore) and by hand; a verifying
 * client (@helia/http's trustless-gateway block broker) reading through the gateway; the
 * `ipfs serve` command. All on 127.0.0.1, no network.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { withHTTP } from '@helia/http'
import { unixfs } from '@helia/unixfs'
import { CarBlockIterator } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { FsBlockstore } from 'blockstore-fs'
import { createHeliaLight } from 'helia'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 as multihashSha256 } from 'multiformats/hashes/sha2'
import { runCli } from '../src/cli/program.js'
import { startStackIpfs } from '../src/localnet/ipfs.js'
import {
  ContentNotFoundError,
  HeliaContentStore,
  KuboContentStore,
  startGateway,
  type RunningGateway,
} from '../src/storage/index.js'
import { collect, MiB, pieces, random } from './helpers.js'

const RAW = 'application/vnd.ipld.raw'
const CAR = 'application/vnd.ipld.car'

function digestOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

async function absentCid(): Promise<string> {
  return CID.createV1(raw.code, await multihashSha256.digest(random(64))).toString()
}

/** Every block of a CAR body, each one's bytes checked against its CID's sha2-256 multihash. */
async function verifiedCar(body: Uint8Array): Promise<{ roots: CID[]; blocks: { cid: CID; bytes: Uint8Array }[] }> {
  const iterator = await CarBlockIterator.fromBytes(body)
  const blocks: { cid: CID; bytes: Uint8Array }[] = []
  for await (const block of iterator) {
    assert.equal(block.cid.multihash.code, multihashSha256.code)
    assert.deepEqual(digestOf(block.bytes), block.cid.multihash.digest, `block ${block.cid} does not hash to its CID`)
    blocks.push(block)
  }
  return { roots: await iterator.getRoots(), blocks }
}

/** A UnixFS file's bytes from its verified blocks, walking the DAG from the root. */
function reassemble(root: CID, blocks: Map<string, Uint8Array>): Uint8Array {
  const bytes = blocks.get(root.toString())
  assert.ok(bytes, `block ${root} missing from the CAR`)
  if (root.code === raw.code) return bytes
  const node = dagPb.decode(bytes)
  return new Uint8Array(Buffer.concat(node.Links.map((link) => reassemble(link.Hash, blocks))))
}

/**
 * A Helia node without storage of its own that reads blocks only from `gatewayUrl` with the
 * trustless-gateway block broker (what @helia/verified-fetch uses), checking each block's hash.
 * No delegated routers, no public gateways: nothing leaves 127.0.0.1.
 */
async function verifyingClient(gatewayUrl: string) {
  const client = withHTTP(createHeliaLight(), { delegatedRouters: [], recursiveGateways: [gatewayUrl], allowLocal: true, allowInsecure: true })
  // helia 7.1.15 asks fallback routers (the gateway above) only after its other routers have
  // finished, and with none its provider search never finishes: give it one that finds nothing
  client.addRouter({ name: 'none', async *findProviders() {} })
  await client.start()
  return client
}

describe('the trustless gateway over the embedded node', () => {
  let root: string
  let store: HeliaContentStore
  let gateway: RunningGateway
  let file: Uint8Array
  let fileCid: string
  let jsonCid: string
  const get = (path: string, init: RequestInit = {}) => fetch(`${gateway.url}${path}`, init)

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'gateway-test-'))
    store = await HeliaContentStore.open({ directory: join(root, 'node') })
    gateway = await startGateway({ store, rpcAllowedOrigins: ['http://dapp.test'] })
    file = random(5 * MiB + 123) // six 1 MiB chunks
    fileCid = await store.addFile(pieces(file))
    jsonCid = await store.addJson({ title: 'Street scenes', tags: ['vision'] })
  })

  after(async () => {
    await gateway.close()
    await store.stop()
    await rm(root, { recursive: true, force: true })
  })

  test('a raw block: its bytes hash to the CID, with the headers the specification asks for', async () => {
    const response = await get(`/ipfs/${jsonCid}`, { headers: { Accept: RAW } })
    assert.equal(response.status, 200)
    const bytes = new Uint8Array(await response.arrayBuffer())
    const cid = CID.parse(jsonCid)
    assert.deepEqual(digestOf(bytes), cid.multihash.digest)
    assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes)), { tags: ['vision'], title: 'Street scenes' })
    const h = response.headers
    assert.equal(h.get('content-type'), RAW)
    assert.equal(h.get('content-length'), String(bytes.length))
    assert.equal(h.get('x-content-type-options'), 'nosniff')
    assert.equal(h.get('cache-control'), 'public, max-age=29030400, immutable')
    assert.equal(h.get('etag'), `"${jsonCid}.raw"`)
    assert.equal(h.get('x-ipfs-path'), `/ipfs/${jsonCid}`)
    assert.equal(h.get('x-ipfs-roots'), jsonCid)
    assert.equal(h.get('content-disposition'), `attachment; filename="${jsonCid}.bin"`)
    // negotiated from Accept: the URL with ?format= for caches
    assert.equal(h.get('content-location'), `/ipfs/${jsonCid}?format=raw`)
    assert.equal(h.get('access-control-allow-origin'), '*')

    // the root of a multi-block file is a dag-pb block linking its six chunks; format wins over Accept
    const rootResponse = await get(`/ipfs/${fileCid}?format=raw`, { headers: { Accept: CAR } })
    assert.equal(rootResponse.status, 200)
    assert.equal(rootResponse.headers.get('content-type'), RAW)
    assert.equal(rootResponse.headers.get('content-location'), null)
    const rootBytes = new Uint8Array(await rootResponse.arrayBuffer())
    assert.deepEqual(digestOf(rootBytes), CID.parse(fileCid).multihash.digest)
    assert.equal(dagPb.decode(rootBytes).Links.length, 6)

    // a byte range of a block
    const ranged = await get(`/ipfs/${jsonCid}?format=raw`, { headers: { Range: 'bytes=2-5' } })
    assert.equal(ranged.status, 206)
    assert.equal(ranged.headers.get('content-range'), `bytes 2-5/${bytes.length}`)
    assert.deepEqual(new Uint8Array(await ranged.arrayBuffer()), bytes.subarray(2, 6))
  })

  test('a multi-block file as a CAR: the root first, every block verified, the file reassembled', async () => {
    const response = await get(`/ipfs/${fileCid}`, { headers: { Accept: `${CAR}; version=1` } })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), `${CAR}; version=1; order=dfs; dups=n`)
    assert.equal(response.headers.get('content-length'), null) // streamed
    assert.equal(response.headers.get('content-location'), `/ipfs/${fileCid}?format=car`)
    assert.equal(response.headers.get('content-disposition'), `attachment; filename="${fileCid}.car"`)
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(response.headers.get('cache-control'), 'public, max-age=29030400, immutable')
    assert.match(response.headers.get('etag') ?? '', new RegExp(`^"${fileCid}\\.car\\.`))
    const body = new Uint8Array(await response.arrayBuffer())
    const { roots, blocks } = await verifiedCar(body)
    assert.deepEqual(roots.map(String), [fileCid])
    assert.equal(blocks.length, 7)
    assert.equal(blocks[0]!.cid.toString(), fileCid)
    // depth first: the root's links in their order
    const links = dagPb.decode(blocks[0]!.bytes).Links.map((l) => l.Hash.toString())
    assert.deepEqual(blocks.slice(1).map((b) => b.cid.toString()), links)
    const byCid = new Map(blocks.map((b) => [b.cid.toString(), b.bytes]))
    assert.deepEqual(reassemble(CID.parse(fileCid), byCid), file)

    // ?format=car gives the same bytes (the walk is deterministic)
    const viaQuery = new Uint8Array(await (await get(`/ipfs/${fileCid}?format=car`)).arrayBuffer())
    assert.deepEqual(viaQuery, body)
  })

  test('dag-scope and entity-bytes: the root block alone, or only the chunks a byte range needs', async () => {
    const leaves = dagPb.decode(await store.getBlock(CID.parse(fileCid))).Links.map((l) => l.Hash.toString())
    const cidsOf = async (query: string) => {
      const response = await get(`/ipfs/${fileCid}?format=car&${query}`)
      assert.equal(response.status, 200, query)
      return (await verifiedCar(new Uint8Array(await response.arrayBuffer()))).blocks.map((b) => b.cid.toString())
    }
    assert.deepEqual(await cidsOf('dag-scope=block'), [fileCid])
    assert.deepEqual(await cidsOf('dag-scope=entity'), [fileCid, ...leaves])
    assert.deepEqual(await cidsOf(`entity-bytes=${MiB}:${2 * MiB - 1}`), [fileCid, leaves[1]])
    assert.deepEqual(await cidsOf(`entity-bytes=${MiB - 1}:${MiB}`), [fileCid, leaves[0], leaves[1]])
    assert.deepEqual(await cidsOf('entity-bytes=-10:*'), [fileCid, leaves[5]])
    assert.deepEqual(await cidsOf('entity-bytes=0:-1'), [fileCid, ...leaves])
    assert.deepEqual(await cidsOf(`entity-bytes=${4 * MiB}:${100 * MiB}`), [fileCid, leaves[4], leaves[5]]) // clamped
    const past = await get(`/ipfs/${fileCid}?format=car&entity-bytes=${6 * MiB}:*`)
    assert.equal(past.status, 400)
    assert.match(await past.text(), /past the end/)
  })

  test('duplicate blocks: sent once by default (dups=n), at each occurrence with dups=y', async () => {
    const zeros = new Uint8Array(3 * MiB) // three identical chunks
    const cid = await store.addFile([zeros])
    const once = await get(`/ipfs/${cid}?format=car`)
    const onceCar = await verifiedCar(new Uint8Array(await once.arrayBuffer()))
    assert.equal(onceCar.blocks.length, 2)
    const every = await get(`/ipfs/${cid}`, { headers: { Accept: `${CAR}; version=1; order=dfs; dups=y` } })
    assert.equal(every.headers.get('content-type'), `${CAR}; version=1; order=dfs; dups=y`)
    const everyCar = await verifiedCar(new Uint8Array(await every.arrayBuffer()))
    assert.equal(everyCar.blocks.length, 4)
    assert.deepEqual(reassemble(CID.parse(cid), new Map(everyCar.blocks.map((b) => [b.cid.toString(), b.bytes]))), zeros)
    assert.notEqual(once.headers.get('etag'), every.headers.get('etag'))
  })

  test('HEAD answers the headers of GET without a body; If-None-Match gives 304', async () => {
    const rawHead = await get(`/ipfs/${fileCid}?format=raw`, { method: 'HEAD' })
    assert.equal(rawHead.status, 200)
    const rootBlock = await store.getBlock(CID.parse(fileCid))
    assert.equal(rawHead.headers.get('content-length'), String(rootBlock.length))
    assert.equal(rawHead.headers.get('content-type'), RAW)
    assert.equal((await rawHead.arrayBuffer()).byteLength, 0)
    const carHead = await get(`/ipfs/${fileCid}?format=car`, { method: 'HEAD' })
    assert.equal(carHead.status, 200)
    assert.equal(carHead.headers.get('content-type'), `${CAR}; version=1; order=dfs; dups=n`)
    assert.equal((await carHead.arrayBuffer()).byteLength, 0)
    assert.equal((await get(`/ipfs/${await absentCid()}?format=raw`, { method: 'HEAD' })).status, 404)

    const etag = rawHead.headers.get('etag')!
    const cached = await get(`/ipfs/${fileCid}?format=raw`, { headers: { 'If-None-Match': etag } })
    assert.equal(cached.status, 304)
    assert.equal(cached.headers.get('etag'), etag)
  })

  test('CORS: any origin reads the gateway; preflight allows GET, HEAD, Range and Accept', async () => {
    const response = await get(`/ipfs/${jsonCid}?format=raw`, { headers: { Origin: 'https://anywhere.example' } })
    assert.equal(response.headers.get('access-control-allow-origin'), '*')
    const exposed = (response.headers.get('access-control-expose-headers') ?? '').toLowerCase()
    for (const name of ['content-length', 'content-range', 'etag', 'x-ipfs-path', 'x-ipfs-roots']) assert.ok(exposed.includes(name), name)
    await response.arrayBuffer()

    const preflight = await get(`/ipfs/${jsonCid}`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://anywhere.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range, accept' },
    })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*')
    const methods = preflight.headers.get('access-control-allow-methods') ?? ''
    for (const method of ['GET', 'HEAD', 'OPTIONS']) assert.ok(methods.includes(method), method)
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase()
    for (const name of ['range', 'accept', 'if-none-match']) assert.ok(allowed.includes(name), name)
    assert.ok(Number(preflight.headers.get('access-control-max-age')) > 0)
  })

  test('a CID the node does not hold is 404 at once (412 with only-if-cached); it never looks on the network', async () => {
    const cid = await absentCid()
    const started = Date.now()
    for (const format of ['raw', 'car']) {
      const response = await get(`/ipfs/${cid}?format=${format}`)
      assert.equal(response.status, 404)
      assert.match(await response.text(), /not in this node's store/)
      assert.equal(response.headers.get('access-control-allow-origin'), '*')
    }
    assert.ok(Date.now() - started < 2_000)
    assert.equal((await get(`/ipfs/${cid}?format=raw`, { headers: { 'Cache-Control': 'only-if-cached' } })).status, 412)
  })

  test('garbage is 400, other methods 405, IPNS 501; the identity probe bafkqaaa answers', async () => {
    const status = async (path: string, init?: RequestInit) => {
      const response = await get(path, init)
      await response.arrayBuffer()
      return response.status
    }
    assert.equal(await status('/ipfs/not-a-cid?format=raw'), 400)
    assert.equal(await status('/ipfs/Qm123?format=car'), 400)
    assert.equal(await status(`/ipfs/${jsonCid}?format=tar`), 400)
    assert.equal(await status(`/ipfs/${jsonCid}`), 400) // strict trustless: no format, no Accept
    assert.equal(await status(`/ipfs/${jsonCid}`, { headers: { Accept: 'text/html,*/*;q=0.8' } }), 400)
    assert.equal(await status(`/ipfs/${fileCid}?format=car&car-version=2`), 400)
    assert.equal(await status(`/ipfs/${fileCid}?format=car&dag-scope=everything`), 400)
    assert.equal(await status(`/ipfs/${fileCid}/sub/path?format=car`), 400)
    for (const method of ['POST', 'PUT', 'DELETE']) assert.equal(await status(`/ipfs/${jsonCid}?format=raw`, { method }), 405)
    assert.equal(await status('/ipns/example.com?format=raw'), 501)
    assert.equal(await status('/nothing-here'), 404)

    const probeRaw = await get('/ipfs/bafkqaaa?format=raw')
    assert.equal(probeRaw.status, 200)
    assert.equal((await probeRaw.arrayBuffer()).byteLength, 0)
    const probeCar = await get('/ipfs/bafkqaaa?format=car')
    assert.equal(probeCar.status, 200)
    const car = await verifiedCar(new Uint8Array(await probeCar.arrayBuffer()))
    assert.deepEqual(car.roots.map(String), ['bafkqaaa'])
    assert.equal(car.blocks.length, 0) // identity blocks are never sent
  })

  test('a block missing half way through a CAR cuts the stream: the client sees it incomplete', async () => {
    const directory = join(root, 'damaged')
    const damaged = await HeliaContentStore.open({ directory })
    const cid = await damaged.addFile(pieces(random(3 * MiB + 5)))
    const leaf = dagPb.decode(await damaged.getBlock(CID.parse(cid))).Links[1]!.Hash
    await damaged.stop()
    const blocks = new FsBlockstore(join(directory, 'blocks'))
    await blocks.open()
    await blocks.delete(leaf)
    await blocks.close()
    const reopened = await HeliaContentStore.open({ directory })
    const server = await startGateway({ store: reopened, rpc: false })
    try {
      const response = await fetch(`${server.url}/ipfs/${cid}?format=car`)
      assert.equal(response.status, 200) // the root is there: streaming had begun
      await assert.rejects(response.arrayBuffer())
      // the server goes on serving
      assert.equal((await fetch(`${server.url}/ipfs/${cid}?format=raw`)).status, 200)
    } finally {
      await server.close()
      await reopened.stop()
    }
  })

  test('backpressure: a client that does not read holds the walk back (blocks are read as the socket takes them)', async () => {
    const big = await store.addFile(pieces(random(48 * MiB), MiB)) // 48 blocks of 1 MiB
    const original = store.getBlock.bind(store)
    let reads = 0
    store.getBlock = async (cid, options) => {
      reads++
      return original(cid, options)
    }
    const controller = new AbortController()
    try {
      const response = await get(`/ipfs/${big}?format=car`, { signal: controller.signal })
      const reader = response.body!.getReader()
      await reader.read()
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      // 8 MiB read ahead, plus what the socket buffers hold: far from the 48 blocks of the file
      assert.ok(reads < 30, `the gateway read ${reads} blocks ahead of a client that stopped reading`)
      controller.abort()
      await reader.cancel().catch(() => {})
    } finally {
      store.getBlock = original
    }
  })

  test('a client that stops reading a CAR early does not stop the server', async () => {
    const big = await store.addFile(pieces(random(20 * MiB), MiB))
    const controller = new AbortController()
    const response = await get(`/ipfs/${big}?format=car`, { signal: controller.signal })
    const reader = response.body!.getReader()
    await reader.read()
    controller.abort()
    await reader.cancel().catch(() => {})
    const again = await get(`/ipfs/${big}?format=car&dag-scope=block`)
    assert.equal(again.status, 200)
    assert.equal((await verifiedCar(new Uint8Array(await again.arrayBuffer()))).blocks.length, 1)
  })

  test('a verifying client (@helia/http, trustless-gateway block broker) reads the file through the gateway', async () => {
    const client = await verifyingClient(gateway.url)
    try {
      const bytes = await collect(unixfs(client).cat(CID.parse(fileCid), { signal: AbortSignal.timeout(20_000) }))
      assert.deepEqual(bytes, file)
    } finally {
      await client.stop()
    }

    // A node whose disk holds a corrupted block: the client refuses it (the hash does not match).
    const directory = join(root, 'tampered')
    const tampered = await HeliaContentStore.open({ directory })
    const cid = await tampered.addFile(pieces(random(2 * MiB + 1)))
    const leaf = dagPb.decode(await tampered.getBlock(CID.parse(cid))).Links[0]!.Hash
    await tampered.stop()
    const blocks = new FsBlockstore(join(directory, 'blocks'))
    await blocks.open()
    await blocks.delete(leaf)
    await blocks.put(leaf, random(MiB))
    await blocks.close()
    const reopened = await HeliaContentStore.open({ directory })
    const server = await startGateway({ store: reopened, rpc: false })
    const victim = await verifyingClient(server.url)
    try {
      await assert.rejects(collect(unixfs(victim).cat(CID.parse(cid), { signal: AbortSignal.timeout(10_000) })))
    } finally {
      await victim.stop()
      await server.close()
      await reopened.stop()
    }
  })
})

describe('the Kubo RPC subset over the embedded node', () => {
  let root: string
  let store: HeliaContentStore
  let gateway: RunningGateway
  let kubo: KuboContentStore
  const rpc = (command: string, init: RequestInit = {}) => fetch(`${gateway.url}/api/v0/${command}`, { method: 'POST', ...init })

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kubo-rpc-test-'))
    store = await HeliaContentStore.open({ directory: join(root, 'served') })
    gateway = await startGateway({ store, rpcAllowedOrigins: ['http://dapp.test'] })
    kubo = new KuboContentStore({ url: gateway.url, catTimeoutMs: 10_000 })
  })

  after(async () => {
    await kubo.stop()
    await gateway.close()
    await store.stop()
    await rm(root, { recursive: true, force: true })
  })

  test('KuboContentStore against it: the same CIDs as the embedded node on its own, cat, has, pins', async () => {
    const file = random(4 * MiB + 777)
    const metadata = { title: 'Support chats', tags: ['chat', 'nlp'], nested: { b: 2, a: 1 } }
    const alone = await HeliaContentStore.open({ directory: join(root, 'alone') })
    let expectedFile: string
    let expectedJson: string
    let expectedSmall: string
    const small = random(1000)
    try {
      expectedFile = await alone.addFile(pieces(file))
      expectedJson = await alone.addJson(metadata)
      expectedSmall = await alone.addFile([small])
    } finally {
      await alone.stop()
    }
    const fileCid = await kubo.addFile(pieces(file, 100_000))
    assert.equal(fileCid, expectedFile)
    assert.equal(await kubo.addJson(metadata), expectedJson)
    assert.equal(await kubo.addFile([small]), expectedSmall)
    assert.deepEqual(await collect(kubo.cat(fileCid)), file)
    assert.deepEqual(JSON.parse(new TextDecoder().decode(await collect(kubo.cat(expectedJson)))), metadata)
    assert.deepEqual(await collect(kubo.cat(fileCid, { offset: MiB - 3, length: 10 })), file.subarray(MiB - 3, MiB + 7))
    assert.equal(await kubo.has(fileCid), true)
    assert.equal(await kubo.has(await absentCid()), false)
    // added through the RPC, held and pinned by the served node
    assert.equal(await store.has(fileCid), true)
    assert.equal(await store.helia.pins.isPinned(CID.parse(fileCid)), true)
    assert.deepEqual(await collect(store.cat(fileCid)), file)
  })

  test('an unknown CID fails with the store\'s ContentNotFoundError, at once', async () => {
    const cid = await absentCid()
    const started = Date.now()
    await assert.rejects(collect(kubo.cat(cid)), (err: unknown) => {
      assert.ok(err instanceof ContentNotFoundError, String(err))
      assert.equal(err.cid, cid)
      return true
    })
    assert.ok(Date.now() - started < 2_000)
  })

  test('add honours cid-version, raw-leaves, chunker and pin, with Kubo\'s defaults and its NDJSON answer', async () => {
    const add = async (query: string, bytes: Uint8Array, name = 'hello.txt') => {
      const form = new FormData()
      form.append('file', new Blob([bytes]), name)
      const response = await rpc(`add?${query}`, { body: form })
      const text = await response.text()
      return { status: response.status, lines: text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>), response }
    }
    const hello = new TextEncoder().encode('hello world\n')
    // Kubo's well-known CIDs for `echo "hello world" | ipfs add` (CIDv0, 256 KiB chunks) and with --cid-version=1
    const v0 = await add('', hello)
    assert.equal(v0.status, 200)
    assert.equal(v0.response.headers.get('content-type'), 'application/json')
    assert.deepEqual(v0.lines, [{ Name: 'hello.txt', Hash: 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o', Size: '20' }])
    const v1 = await add('cid-version=1', hello)
    assert.deepEqual(v1.lines, [{ Name: 'hello.txt', Hash: 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4', Size: '12' }])

    // other parameters give what the embedded node gives for them
    const data = random(3 * 256 * 1024 + 10)
    const alone = await HeliaContentStore.open({ directory: join(root, 'params') })
    try {
      for (const [query, params] of [
        ['cid-version=0&chunker=size-262144', { cidVersion: 0, rawLeaves: false, chunkSize: 262_144 }],
        ['cid-version=1&raw-leaves=false&chunker=size-65536', { cidVersion: 1, rawLeaves: false, chunkSize: 65_536 }],
        ['cid-version=1&raw-leaves=true&chunker=size-1048576&pin=false', { cidVersion: 1, rawLeaves: true, chunkSize: MiB }],
      ] as const) {
        const expected = await alone.importFile([data], params)
        const added = await add(query, data, 'data.bin')
        assert.equal(added.status, 200, query)
        assert.deepEqual(added.lines, [{ Name: 'data.bin', Hash: expected.cid.toString(), Size: String(expected.dagSize) }], query)
      }
      const unpinned = await alone.importFile([data], { cidVersion: 1, rawLeaves: true, chunkSize: MiB })
      assert.equal(await store.helia.pins.isPinned(unpinned.cid), false) // pin=false above
    } finally {
      await alone.stop()
    }

    // progress lines, then the file's line, through the client's progress callback
    const seen: number[] = []
    const client = (await import('kubo-rpc-client')).create({ url: gateway.url })
    const big = random(2 * MiB + 5)
    const result = await client.add(big, { cidVersion: 1, rawLeaves: true, chunker: `size-${MiB}`, progress: (bytes: number) => seen.push(bytes) })
    assert.equal(result.cid.toString(), await kubo.addFile([big]))
    assert.equal(seen.at(-1), big.length)
  })

  test('errors as Kubo gives them: JSON Message/Code/Type, 400 for malformed calls, 405, 404', async () => {
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(10)]), 'x')
    for (const [query, pattern] of [
      ['chunker=rabin-1-2-3', /chunker "rabin-1-2-3" is not supported/],
      ['chunker=size-2097152', /maximum chunk size of 1048576/],
      ['trickle=true', /"trickle" is not supported/],
      ['hash=blake2b-256', /sha2-256 only/],
    ] as const) {
      const response = await rpc(`add?${query}`, { body: form })
      assert.equal(response.status, 500, query)
      const body = (await response.json()) as { Message: string; Code: number; Type: string }
      assert.equal(body.Type, 'error')
      assert.equal(body.Code, 0)
      assert.match(body.Message, pattern)
    }
    const badBool = await rpc('add?pin=maybe', { body: form })
    assert.equal(badBool.status, 400)
    assert.equal(((await badBool.json()) as { Code: number }).Code, 1)
    const noArg = await rpc('cat')
    assert.equal(noArg.status, 400)
    assert.match(((await noArg.json()) as { Message: string }).Message, /argument "ipfs-path" is required/)
    const badCid = await rpc('cat?arg=garbage')
    assert.equal(badCid.status, 500)
    assert.match(((await badCid.json()) as { Message: string }).Message, /invalid path/)
    const missing = await rpc(`block/stat?arg=${await absentCid()}`)
    assert.equal(missing.status, 500)
    assert.match(((await missing.json()) as { Message: string }).Message, /block was not found locally/)
    const get = await fetch(`${gateway.url}/api/v0/cat?arg=${await absentCid()}`)
    assert.equal(get.status, 405)
    await get.text()
    const unknown = await rpc('swarm/peers')
    assert.equal(unknown.status, 404)
    await unknown.text()
    // kubo-rpc-client turns them into errors that carry the message
    const client = (await import('kubo-rpc-client')).create({ url: gateway.url })
    await assert.rejects(client.add(new Uint8Array(10), { chunker: 'buzhash' }), /chunker "buzhash" is not supported/)
    const version = await client.version()
    assert.equal(typeof version.version, 'string')
    await assert.rejects(client.id(), /no peer ID/)
  })

  test('browsers: the RPC refuses other origins (403), and serves its own and the allowed ones with CORS', async () => {
    const refused = await rpc('version', { headers: { Origin: 'https://evil.example' } })
    assert.equal(refused.status, 403)
    await refused.text()
    const byReferer = await rpc('version', { headers: { Referer: 'https://evil.example/page' } })
    assert.equal(byReferer.status, 403)
    await byReferer.text()
    const preflightRefused = await fetch(`${gateway.url}/api/v0/add`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    })
    assert.equal(preflightRefused.status, 403)
    await preflightRefused.text()

    const allowed = await rpc('version', { headers: { Origin: 'http://dapp.test' } })
    assert.equal(allowed.status, 200)
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://dapp.test')
    assert.notEqual(allowed.headers.get('access-control-allow-origin'), '*')
    await allowed.json()
    const preflight = await fetch(`${gateway.url}/api/v0/add`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://dapp.test', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://dapp.test')
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/)
    const own = await rpc('version', { headers: { Origin: gateway.url } })
    assert.equal(own.status, 200)
    await own.json()
    // without an allow-list, a server refuses every other origin
    const closed = await startGateway({ store })
    try {
      const response = await fetch(`${closed.url}/api/v0/version`, { method: 'POST', headers: { Origin: 'http://dapp.test' } })
      assert.equal(response.status, 403)
      await response.text()
    } finally {
      await closed.close()
    }
  })
})

class Capture extends Writable {
  text = ''
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void) {
    this.text += chunk.toString()
    callback()
  }
}

describe('serving the node: `ipfs serve` and the local stack\'s IPFS node', () => {
  test('`data-market ipfs serve` serves the --ipfs node until Ctrl-C, and other commands add through it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ipfs-serve-test-'))
    const stdout = new Capture()
    const stderr = new Capture()
    const abort = new AbortController()
    const directory = join(root, 'node')
    const running = runCli(['--ipfs', directory, 'ipfs', 'serve', '--port', '0', '--allow-origin', 'http://localhost:5173'], {
      streams: { stdout, stderr },
      signal: abort.signal,
    })
    try {
      let url: string | undefined
      for (let i = 0; i < 100 && url === undefined; i++) {
        url = /gateway {2}(http:\/\/127\.0\.0\.1:\d+)\/ipfs/.exec(stdout.text)?.[1]
        if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.ok(url, `no gateway URL in ${JSON.stringify(stdout.text + stderr.text)}`)
      assert.match(stdout.text, new RegExp(`rpc {6}${url}/api/v0`))
      const kubo = new KuboContentStore({ url })
      const cid = await kubo.addJson({ hello: 'gateway' })
      await kubo.stop()
      const block = await fetch(`${url}/ipfs/${cid}?format=raw`)
      assert.deepEqual(JSON.parse(await block.text()), { hello: 'gateway' })
      const dapp = await fetch(`${url}/api/v0/version`, { method: 'POST', headers: { Origin: 'http://localhost:5173' } })
      assert.equal(dapp.status, 200)
      await dapp.text()
    } finally {
      abort.abort()
    }
    assert.equal(await running, 0, stderr.text)
    assert.match(stderr.text, /IPFS server stopped/)
    // the content stayed in the node's directory
    const store = await HeliaContentStore.open({ directory })
    try {
      assert.equal((await collect(store.cat(CID.createV1(raw.code, await multihashSha256.digest(new TextEncoder().encode('{"hello":"gateway"}'))).toString()))).length, 19)
    } finally {
      await store.stop()
      await rm(root, { recursive: true, force: true })
    }
  })

  test('`ipfs serve` refuses a Kubo URL as --ipfs, and a port in use', async () => {
    const run = async (argv: string[]) => {
      const stdout = new Capture()
      const stderr = new Capture()
      const code = await runCli(argv, { streams: { stdout, stderr } })
      return { code, stderr: stderr.text }
    }
    const kubo = await run(['--ipfs', 'http://127.0.0.1:5001', 'ipfs', 'serve'])
    assert.equal(kubo.code, 2)
    assert.match(kubo.stderr, /^error: ipfs serve serves the embedded node/)
    const root = await mkdtemp(join(tmpdir(), 'ipfs-serve-busy-'))
    const busy = await startStackIpfs({ directory: join(root, 'a'), port: 0 })
    try {
      const taken = await run(['--ipfs', join(root, 'b'), 'ipfs', 'serve', '--port', String(busy.gateway.port)])
      assert.equal(taken.code, 2)
      assert.match(taken.stderr, /is in use: choose another with --port/)
      await assert.rejects(startStackIpfs({ directory: join(root, 'c'), port: busy.gateway.port }), /--ipfs-port/)
    } finally {
      await busy.stop()
      await rm(root, { recursive: true, force: true })
    }
  })
})
