/**
 * The universal verified reader (src/storage/trustless-reader.ts) against the project's own
 * trustless gateway over a real embedded node: a multi-block file, a nested DAG, a small file, and
 * the failures: a gateway that flips one byte of one block, a block the gateway does not have, a
 * gateway that is not there. All on 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 as multihashSha256 } from 'multiformats/hashes/sha2'
import {
  BlockHashMismatchError,
  BlockNotFoundError,
  GatewayUnreachableError,
  HeliaContentStore,
  readVerifiedFile,
  startGateway,
  trustlessCatStore,
  type RunningGateway,
} from '../src/storage/index.js'
import { collect, MiB, pieces, random } from './helpers.js'

/** A proxy in front of `target` that flips the first byte of the block `cid` (and counts requests). */
async function tamperingProxy(target: string, cid: () => string): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '')
    ;(async () => {
      const upstream = await fetch(`${target}${req.url}`, { headers: { Accept: req.headers.accept ?? '*/*' } })
      const body = new Uint8Array(await upstream.arrayBuffer())
      if (upstream.ok && req.url?.startsWith(`/ipfs/${cid()}`)) body[0] = body[0]! ^ 0xff
      res.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'application/octet-stream', 'Content-Length': body.length })
      res.end(body)
    })().catch(() => res.destroy()) // the reader gave up on this block and went away
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((ok) => {
      server.close(() => ok())
      server.closeAllConnections()
    }),
  }
}

describe('reading files through a trustless gateway, every block verified', () => {
  let root: string
  let store: HeliaContentStore
  let gateway: RunningGateway
  let file: Uint8Array
  let fileCid: string
  let leaves: CID[]

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trustless-reader-test-'))
    store = await HeliaContentStore.open({ directory: join(root, 'node') })
    gateway = await startGateway({ store })
    file = random(5 * MiB + 4321) // six 1 MiB raw leaves under a dag-pb root
    fileCid = await store.addFile(pieces(file))
    leaves = dagPb.decode(await store.getBlock(CID.parse(fileCid))).Links.map((l) => l.Hash)
  })

  after(async () => {
    await gateway.close()
    await store.stop()
    await rm(root, { recursive: true, force: true })
  })

  test('a multi-block file comes back byte for byte, its size announced from the root', async () => {
    assert.equal(leaves.length, 6)
    assert.ok(leaves.every((l) => l.code === raw.code))
    let size = -1
    const read = await collect(readVerifiedFile(gateway.url, fileCid, { onSize: (s) => (size = s), readAheadBlocks: 3 }))
    assert.equal(size, 5 * MiB + 4321)
    assert.equal(read.length, file.length)
    assert.deepEqual(read, file)
  })

  test('a nested DAG (a root linking dag-pb nodes linking raw leaves) is walked in order', async () => {
    const data = random(2 * MiB + 77)
    let nested: CID | undefined
    for await (const entry of importer([{ content: data }], store.helia.blockstore, {
      cidVersion: 1,
      rawLeaves: true,
      chunker: fixedSize({ chunkSize: 100_000 }),
      layout: balanced({ maxChildrenPerNode: 4 }),
    })) {
      nested = entry.cid
    }
    assert.ok(nested)
    const top = dagPb.decode(await store.getBlock(nested))
    assert.ok(top.Links.every((l) => l.Hash.code === dagPb.code), 'the root links intermediate nodes')
    const read = await collect(readVerifiedFile(gateway.url, nested.toString()))
    assert.deepEqual(read, data)
  })

  test('a one-block file (raw root) and JSON through the ContentStore-shaped reader', async () => {
    const jsonCid = await store.addJson({ title: 'Street scenes', tags: ['vision'] })
    const read = await collect(trustlessCatStore(gateway.url).cat(jsonCid))
    assert.equal(new TextDecoder().decode(read), '{"tags":["vision"],"title":"Street scenes"}')
  })

  test('a gateway that flips one byte of the fourth block: BlockHashMismatchError naming that block', async () => {
    const tampered = leaves[3]!.toString()
    const proxy = await tamperingProxy(gateway.url, () => tampered)
    try {
      const received: Uint8Array[] = []
      await assert.rejects(
        (async () => {
          for await (const piece of readVerifiedFile(proxy.url, fileCid, { readAheadBlocks: 2 })) received.push(piece)
        })(),
        (error: unknown) => {
          assert.ok(error instanceof BlockHashMismatchError)
          assert.equal(error.cid, tampered)
          assert.equal(error.message, `block ${tampered} from the IPFS gateway ${proxy.url} does not match its hash: the content was tampered with`)
          return true
        },
      )
      // The three blocks before it were verified and handed out; nothing of the tampered one.
      assert.equal(received.length, 3)
      assert.deepEqual(new Uint8Array(Buffer.concat(received)), file.subarray(0, 3 * MiB))
      // Read-ahead stays bounded: the root plus at most two blocks past the ones handed out.
      assert.ok(proxy.requests.length <= 1 + 3 + 2, `requests: ${proxy.requests.length}`)
    } finally {
      await proxy.close()
    }

    // A tampered root is caught too.
    const rootProxy = await tamperingProxy(gateway.url, () => fileCid)
    try {
      await assert.rejects(collect(readVerifiedFile(rootProxy.url, fileCid)), BlockHashMismatchError)
    } finally {
      await rootProxy.close()
    }
  })

  test('a block the gateway does not have: BlockNotFoundError (HTTP 404)', async () => {
    const absent = CID.createV1(raw.code, await multihashSha256.digest(random(64))).toString()
    await assert.rejects(collect(readVerifiedFile(gateway.url, absent)), (error: unknown) => {
      assert.ok(error instanceof BlockNotFoundError)
      assert.equal(error.cid, absent)
      assert.equal(error.message, `the IPFS gateway ${gateway.url} does not have block ${absent} (HTTP 404)`)
      return true
    })
  })

  test('no gateway on the port: GatewayUnreachableError', async () => {
    const closed = await startGateway({ store })
    const url = closed.url
    await closed.close()
    await assert.rejects(collect(readVerifiedFile(url, fileCid)), (error: unknown) => {
      assert.ok(error instanceof GatewayUnreachableError)
      assert.match(error.message, new RegExp(`^the IPFS gateway ${url} cannot be reached: `))
      return true
    })
  })
})
