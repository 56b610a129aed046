/**
 * Runs a byte source ahead of its consumer, buffering at most about `maxBytes`: reading (disk or
 * network) then overlaps with the consumer's work (decryption) while memory stays bounded.
 */
export async function* readAhead(source: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]()
  const queue: Uint8Array[] = []
  let queued = 0
  let finished = false
  let stopped = false
  let failure: { error: unknown } | null = null
  let wakeConsumer: (() => void) | null = null
  let wakeProducer: (() => void) | null = null

  const wake = (which: 'consumer' | 'producer') => {
    const fn = which === 'consumer' ? wakeConsumer : wakeProducer
    if (which === 'consumer') wakeConsumer = null
    else wakeProducer = null
    fn?.()
  }

  const producer = (async () => {
    try {
      while (!stopped) {
        if (queued >= maxBytes) {
          await new Promise<void>((resolve) => (wakeProducer = resolve))
          continue
        }
        const next = await iterator.next()
        if (next.done === true) break
        queue.push(next.value)
        queued += next.value.length
        wake('consumer')
      }
    } catch (error) {
      failure = { error }
    } finally {
      finished = true
      wake('consumer')
    }
  })()

  try {
    for (;;) {
      const piece = queue.shift()
      if (piece !== undefined) {
        queued -= piece.length
        wake('producer')
        yield piece
        continue
      }
      if (failure !== null) throw (failure as { error: unknown }).error
      if (finished) return
      await new Promise<void>((resolve) => (wakeConsumer = resolve))
    }
  } finally {
    if (!finished) {
      // the consumer stopped early: let the producer settle, then close the source
      stopped = true
      wake('producer')
      await producer
      await iterator.return?.()
    }
  }
}
