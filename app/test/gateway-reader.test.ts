// The browser's read-only ContentStore over a trustless gateway: it returns a block only when its
// bytes hash to the CID, and refuses what it cannot check.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'

import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'

import { ContentNotFoundError, StorageError } from '../src/storage/content-store.js'
import { GatewayReader } from '../src/storage/gateway-reader.js'

const good = new TextEncoder().encode('{"format":"data-market/dataset-metadata/v1"}')
const forged = new TextEncoder().encode('{"format":"something else entirely"}')
let goodCid: string
let forgedCid: string
let missingCid: string
let url: string
const requests: string[] = []
const server = createServer((req, res) => {
  requests.push(`${req.url} ${req.headers.accept}`)
  const cid = new URL(req.url!, 'http://x').pathname.replace('/ipfs/', '')
  if (cid === goodCid) return res.end(good)
  if (cid === forgedCid) return res.end(forged) // not the bytes the CID names
  res.statusCode = 404
  res.end()
})

before(async () => {
  const cidOf = async (bytes: Uint8Array) => CID.create(1, raw.code, await sha256.digest(bytes)).toString()
  goodCid = await cidOf(good)
  forgedCid = await cidOf(new TextEncoder().encode('the real content'))
  missingCid = await cidOf(new TextEncoder().encode('nobody has this'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})

after(() => new Promise<void>((resolve) => server.close(() => resolve())))

async function read(reader: GatewayReader, cid: string, options = {}): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of reader.cat(cid, options)) parts.push(part)
  return Uint8Array.from(parts.flatMap((p) => [...p]))
}

test('a raw block whose bytes match its CID is read, whole or in part, asked for as a raw block', async () => {
  const reader = new GatewayReader(url)
  assert.deepEqual(await read(reader, goodCid), good)
  assert.deepEqual(await read(reader, goodCid, { offset: 2, length: 6 }), good.subarray(2, 8))
  assert.deepEqual(await read(reader, goodCid, { offset: good.length + 5 }), new Uint8Array())
  assert.equal(await reader.has(goodCid), true)
  assert.equal(requests.at(-1), `/ipfs/${goodCid}?format=raw application/vnd.ipld.raw`)
})

test('bytes that do not hash to the CID and missing blocks are ContentNotFoundError', async () => {
  const reader = new GatewayReader(url)
  await assert.rejects(read(reader, forgedCid), (e: unknown) => e instanceof ContentNotFoundError && /do not match the CID/.test(e.message))
  await assert.rejects(read(reader, missingCid), (e: unknown) => e instanceof ContentNotFoundError && /answered 404/.test(e.message))
  assert.equal(await reader.has(missingCid), false)
})

test('a UnixFS DAG root, an invalid CID and writes are refused without asking the gateway', async () => {
  const reader = new GatewayReader(url)
  const before = requests.length
  const dagPb = CID.create(1, 0x70, createDigest(0x12, new Uint8Array(32))).toString()
  await assert.rejects(read(reader, dagPb), (e: unknown) => e instanceof StorageError && e.code === 'NOT_A_FILE')
  await assert.rejects(read(reader, 'not-a-cid'), (e: unknown) => e instanceof StorageError && e.code === 'INVALID_CID')
  await assert.rejects(reader.addJson(), (e: unknown) => e instanceof StorageError && e.code === 'OFFLINE')
  assert.equal(requests.length, before)
})
