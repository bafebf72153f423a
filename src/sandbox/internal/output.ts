/**
 * Bounded capture of a byte stream: the first half of the budget and a rolling last half are
 * kept, everything between is counted and replaced by a marker. Memory stays at the budget no
 * matter how much a command prints.
 *
 * @internal
 */

/** The text that replaces the middle of an output or file that was too large. */
export const cutMarker = (bytes: number): string => `\n[... ${bytes} bytes cut ...]\n`

/** Bytes of an incomplete UTF-8 sequence at the end of `bytes` (0 when it ends cleanly). */
const incompleteTail = (bytes: Uint8Array): number => {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back] ?? 0
    if ((byte & 0xc0) === 0x80) continue
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    return needed > back ? back : 0
  }
  return 0
}

/** Continuation bytes at the start of `bytes`: the rest of a character cut off before it. */
const orphanHead = (bytes: Uint8Array): number => {
  let n = 0
  while (n < Math.min(3, bytes.length) && ((bytes[n] ?? 0) & 0xc0) === 0x80) n++
  return n
}

/**
 * Joins a head and a tail around a cut of `cut` bytes, moving split UTF-8 characters into the
 * cut so neither side shows a replacement character.
 */
export const joinCut = (head: Uint8Array, tail: Uint8Array, cut: number): string => {
  if (cut <= 0) return Buffer.concat([head, tail]).toString("utf8")
  const headDrop = incompleteTail(head)
  const tailDrop = orphanHead(tail)
  const text = (bytes: Uint8Array) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")
  return (
    text(head.subarray(0, head.length - headDrop)) +
    cutMarker(cut + headDrop + tailDrop) +
    text(tail.subarray(tailDrop))
  )
}

/**
 * A capture buffer with a fixed budget of `maxBytes`: the head keeps the first half, a ring
 * buffer keeps the latest second half.
 */
export class CappedOutput {
  private readonly head: Buffer
  private headLength = 0
  private readonly ring: Buffer
  private ringStart = 0
  private ringLength = 0
  /** Every byte pushed so far, kept or not. */
  total = 0

  constructor(maxBytes: number) {
    const budget = Math.max(0, Math.floor(maxBytes))
    this.head = Buffer.alloc(Math.ceil(budget / 2))
    this.ring = Buffer.alloc(Math.floor(budget / 2))
  }

  /** The bytes this buffer holds: never more than the budget. */
  get retainedBytes(): number {
    return this.head.length + this.ring.length
  }

  /** True once something had to be cut. */
  get truncated(): boolean {
    return this.total > this.headLength + this.ringLength
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.length
    const intoHead = Math.min(chunk.length, this.head.length - this.headLength)
    if (intoHead > 0) {
      this.head.set(chunk.subarray(0, intoHead), this.headLength)
      this.headLength += intoHead
    }
    const rest = chunk.subarray(intoHead)
    const capacity = this.ring.length
    if (rest.length === 0 || capacity === 0) return
    if (rest.length >= capacity) {
      this.ring.set(rest.subarray(rest.length - capacity))
      this.ringStart = 0
      this.ringLength = capacity
      return
    }
    // Append after the newest byte, wrapping around; drop the oldest bytes once full.
    let writeAt = (this.ringStart + this.ringLength) % capacity
    const firstPart = Math.min(rest.length, capacity - writeAt)
    this.ring.set(rest.subarray(0, firstPart), writeAt)
    this.ring.set(rest.subarray(firstPart), 0)
    writeAt = (writeAt + rest.length) % capacity
    const length = this.ringLength + rest.length
    if (length > capacity) {
      this.ringLength = capacity
      this.ringStart = writeAt
    } else {
      this.ringLength = length
    }
  }

  /** The captured text: all of it, or head, marker and tail. */
  render(): string {
    const head = this.head.subarray(0, this.headLength)
    const end = this.ringStart + this.ringLength
    const tail =
      end <= this.ring.length
        ? this.ring.subarray(this.ringStart, end)
        : Buffer.concat([this.ring.subarray(this.ringStart), this.ring.subarray(0, end - this.ring.length)])
    return joinCut(head, tail, this.total - this.headLength - this.ringLength)
  }
}
