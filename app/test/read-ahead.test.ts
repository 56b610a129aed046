import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { readAhead } from '../src/storage/read-ahead.js'

describe('readAhead', () => {
  test('delivers every piece in order and never runs more than its bound ahead', async () => {
    const piece = 1000
    let produced = 0
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 200; i++) {
        produced += piece
        yield new Uint8Array(piece).fill(i)
      }
    }
    let consumed = 0
    let maxAhead = 0
    let i = 0
    for await (const p of readAhead(source(), 5000)) {
      assert.equal(p[0], i++)
      consumed += p.length
      maxAhead = Math.max(maxAhead, produced - consumed)
      await sleep(0) // a slow consumer: the producer fills the buffer meanwhile
    }
    assert.equal(consumed, 200 * piece)
    assert.ok(maxAhead <= 5000 + piece, `ran ${maxAhead} bytes ahead`)
  })

  test('an error comes after the pieces read before it', async () => {
    async function* source(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([1])
      yield new Uint8Array([2])
      throw new Error('disk failed')
    }
    const got: number[] = []
    await assert.rejects(async () => {
      for await (const p of readAhead(source(), 1 << 20)) got.push(p[0]!)
    }, /disk failed/)
    assert.deepEqual(got, [1, 2])
  })

  test('stopping early closes the source', async () => {
    let closed = false
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; ; i++) yield new Uint8Array([i])
      } finally {
        closed = true
      }
    }
    for await (const p of readAhead(source(), 10)) {
      if (p[0] === 3) break
    }
    assert.equal(closed, true)
  })
})
