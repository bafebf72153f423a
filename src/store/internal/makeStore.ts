/**
 * Builds the `EventStore` service from a backend's few primitives. Paging, catch-up and live
 * subscription are written once here, so every backend behaves the same.
 *
 * Live subscribers of a stream share one reader per store: a `Tail` keeps the stream's newest
 * events in memory, one fiber reads each new page of the stream once and wakes only the
 * subscribers it has something for. A subscriber behind the tail's window (catching up from
 * history, or slow) reads pages itself up to the window, then takes the rest from the tail, so it
 * sees every event once and in order. Without sharing, every append woke every subscriber of the
 * stream and each re-read the page: N sessions on one stream cost O(N²) reads.
 */
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type * as Duration from "effect/Duration"
import type { EventStore } from "../EventStore.js"
import { StoreError, type ConcurrencyError, type DecodeError } from "../EventStoreError.js"
import {
  matchesQuery,
  type AppendRequest,
  type AppendResult,
  type EventQuery,
  type StoredEvent
} from "../StoredEvent.js"
import type { StreamHeads } from "./StreamHeads.js"

/** A page: events of `query` with `after < sequence <= upTo`, at most `limit`, in order. */
export interface PageRequest {
  readonly query: EventQuery
  readonly after: number
  readonly upTo: number
  readonly limit: number
}

/** The events of a page in order; a damaged row ends the page and is reported after them. */
export interface Page {
  readonly events: ReadonlyArray<StoredEvent>
  readonly damaged?: DecodeError
}

export interface Backend {
  readonly append: (request: AppendRequest) => Effect.Effect<AppendResult, ConcurrencyError | StoreError>
  readonly readPage: (page: PageRequest) => Effect.Effect<Page, StoreError>
  /** The committed head of a stream, read from the database itself. */
  readonly head: (streamId: string) => Effect.Effect<number, StoreError>
  readonly heads: StreamHeads
  /** How often a waiting subscriber re-reads the head from the database; `None` never does. */
  readonly pollInterval: Option.Option<Duration.DurationInput>
  readonly pageSize: number
}

interface Cursor {
  readonly after: number
  readonly upTo: number
  /** Reported on the next pull, after the events that came before it were emitted. */
  readonly damaged?: DecodeError
}

/** How a subscription rides out a lost database: every 100 ms, backing off to 2 s, for up to a minute. */
const reconnecting = Schedule.jittered(
  Schedule.exponential("100 millis", 2).pipe(Schedule.union(Schedule.spaced("2 seconds")))
).pipe(Schedule.upTo("60 seconds"))

/**
 * A subscription's reads retry a `StoreError` (the database restarted, a connection dropped):
 * it resumes from its cursor, so nothing is skipped or repeated. A one-off `read` fails at once.
 */
const retryWhileSubscribed = <A>(effect: Effect.Effect<A, StoreError>): Effect.Effect<A, StoreError> =>
  Effect.retry(effect, { while: (error) => error._tag === "StoreError", schedule: reconnecting })

/**
 * What a page read from `after` (bounded by `upTo`) means for a paging loop: the events to emit
 * with the cursor behind them (a damaged row is carried in the cursor and reported after them,
 * or at once when it is the first row), or, for an empty page, the position to read on from.
 */
const afterPage = (
  { events, damaged }: Page,
  after: number,
  upTo: number,
  pageSize: number
): number | Effect.Effect<readonly [Chunk.Chunk<StoredEvent>, Option.Option<Cursor>], DecodeError> => {
  if (damaged !== undefined) {
    if (events.length === 0) return damaged
    return Effect.succeed([Chunk.unsafeFromArray(events), Option.some({ after, upTo, damaged })] as const)
  }
  const last = events[events.length - 1]
  // A full page may have more behind it; a short one means everything up to the bound is read.
  const next = events.length === pageSize && last !== undefined ? last.sequence : upTo
  if (events.length === 0) return next
  return Effect.succeed([Chunk.unsafeFromArray(events), Option.some({ after: next, upTo })] as const)
}

/** Reads `after < sequence <= upTo` page by page, then hands over to `onExhausted`. */
const pages = (
  backend: Backend,
  query: EventQuery,
  start: Cursor,
  nextBound: (after: number) => Effect.Effect<Option.Option<number>, StoreError>,
  attempt: <A>(effect: Effect.Effect<A, StoreError>) => Effect.Effect<A, StoreError> = (effect) => effect
): Stream.Stream<StoredEvent, StoreError | DecodeError> =>
  Stream.paginateChunkEffect(start, (cursor) =>
    Effect.gen(function* () {
      if (cursor.damaged !== undefined) return yield* cursor.damaged
      let { after, upTo } = cursor
      while (true) {
        if (after >= upTo) {
          const bound = yield* attempt(nextBound(after))
          if (Option.isNone(bound)) return [Chunk.empty<StoredEvent>(), Option.none<Cursor>()] as const
          upTo = bound.value
        }
        const page = yield* attempt(backend.readPage({ query, after, upTo, limit: backend.pageSize }))
        const step = afterPage(page, after, upTo, backend.pageSize)
        if (typeof step !== "number") return yield* step
        after = step
      }
    })
  )

/** A subscriber waiting at the end of a tail: woken when a page has an event it wants. */
interface Waiter {
  readonly query: EventQuery
  /** Its cursor; moved past pages that hold nothing for it, without waking it. */
  after: number
  readonly wake: Deferred.Deferred<void>
}

interface TailPage {
  readonly after: number
  readonly upTo: number
  readonly events: ReadonlyArray<StoredEvent>
}

/**
 * The shared end of one stream in one store: every event with `base < sequence <= position`,
 * as the pages its reader read (contiguous, oldest first).
 */
interface Tail {
  readonly streamId: string
  subscribers: number
  base: number
  position: number
  readonly pages: Array<TailPage>
  size: number
  readonly waiters: Set<Waiter>
  /** The reader stopped (a damaged row, or the database stayed away): subscribers read themselves. */
  stopped: boolean
  reader: Fiber.RuntimeFiber<void> | undefined
}

/** The events of `query` after `after` that a tail holds, or `undefined` when it cannot serve them. */
const takeFrom = (
  tail: Tail,
  query: EventQuery,
  after: number
): { readonly events: Array<StoredEvent>; readonly upTo: number } | undefined => {
  if (tail.stopped || after < tail.base || after >= tail.position) return undefined
  let first = tail.pages.length - 1
  while (first > 0 && (tail.pages[first]?.after ?? 0) > after) first--
  const events: Array<StoredEvent> = []
  for (let index = first; index < tail.pages.length; index++) {
    for (const event of tail.pages[index]?.events ?? []) {
      if (event.sequence > after && matchesQuery(query, event)) events.push(event)
    }
  }
  return { events, upTo: tail.position }
}

export const make = (backend: Backend): EventStore["Type"] => {
  const append = (request: AppendRequest) =>
    request.events.length === 0
      ? Effect.fail(new StoreError({ operation: "append", reason: "an append needs at least one event" }))
      : Effect.tap(backend.append(request), (result) =>
          Effect.sync(() => backend.heads.publish(request.streamId, result.lastSequence))
        )

  const read = (query: EventQuery) =>
    Stream.unwrap(
      Effect.map(backend.head(query.streamId), (head) =>
        pages(backend, query, { after: query.fromSequence ?? 0, upTo: head }, () => Effect.succeedNone)
      )
    )

  const waitForHead = (streamId: string, after: number): Effect.Effect<number, StoreError> =>
    Effect.flatMap(backend.heads.waitBeyond(streamId, after, backend.pollInterval), (woke) =>
      Option.isSome(woke)
        ? Effect.succeed(woke.value)
        : Effect.flatMap(backend.head(streamId), (head) => {
            if (head > after) {
              backend.heads.publish(streamId, head)
              return Effect.succeed(head)
            }
            return waitForHead(streamId, after)
          })
    )

  // The tail keeps about this many events: enough for subscribers a little behind, bounded per stream.
  const tailEvents = backend.pageSize * 4
  const tails = new Map<string, Tail>()

  const wakeAll = (tail: Tail) => {
    for (const waiter of tail.waiters) Deferred.unsafeDone(waiter.wake, Effect.void)
    tail.waiters.clear()
  }

  const addPage = (tail: Tail, page: TailPage) => {
    tail.pages.push(page)
    tail.size += page.events.length
    tail.position = page.upTo
    while (tail.pages.length > 1 && tail.size > tailEvents) {
      const dropped = tail.pages.shift()
      tail.size -= dropped?.events.length ?? 0
      tail.base = tail.pages[0]?.after ?? tail.position
    }
    for (const waiter of tail.waiters) {
      if (page.events.some((event) => event.sequence > waiter.after && matchesQuery(waiter.query, event))) {
        tail.waiters.delete(waiter)
        Deferred.unsafeDone(waiter.wake, Effect.void)
      } else waiter.after = Math.max(waiter.after, page.upTo)
    }
  }

  /** The tail's reader: reads every new page of the stream once, until interrupted or stopped. */
  const readTail = (tail: Tail): Effect.Effect<void> => {
    const all: EventQuery = { streamId: tail.streamId }
    const step: Effect.Effect<void, StoreError> = Effect.gen(function* () {
      const upTo = yield* retryWhileSubscribed(waitForHead(tail.streamId, tail.position))
      while (tail.position < upTo) {
        const after = tail.position
        const { events, damaged } = yield* retryWhileSubscribed(
          backend.readPage({ query: all, after, upTo, limit: backend.pageSize })
        )
        const last = events[events.length - 1]
        if (damaged !== undefined) {
          // The subscribers read from here themselves: a filter may pass over the damaged row.
          if (last !== undefined) addPage(tail, { after, upTo: last.sequence, events })
          tail.stopped = true
          return
        }
        addPage(tail, {
          after,
          upTo: events.length === backend.pageSize && last !== undefined ? last.sequence : upTo,
          events
        })
      }
    })
    return Effect.suspend(function loop(): Effect.Effect<void, StoreError> {
      return tail.stopped ? Effect.void : Effect.flatMap(step, loop)
    }).pipe(
      Effect.catchAll(() => Effect.sync(() => (tail.stopped = true))),
      Effect.ensuring(Effect.sync(() => wakeAll(tail)))
    )
  }

  const joinTail = (streamId: string, head: number): Effect.Effect<Tail> =>
    Effect.suspend(() => {
      const found = tails.get(streamId)
      if (found !== undefined) {
        found.subscribers++
        return Effect.succeed(found)
      }
      const tail: Tail = {
        streamId,
        subscribers: 1,
        base: head,
        position: head,
        pages: [],
        size: 0,
        waiters: new Set(),
        stopped: false,
        reader: undefined
      }
      tails.set(streamId, tail)
      // Forked from `acquireRelease`'s uninterruptible acquire: the reader itself must stay
      // interruptible (its polling times out waits, and the last subscriber stops it).
      return Effect.map(Effect.forkDaemon(Effect.interruptible(readTail(tail))), (reader) => {
        tail.reader = reader
        return tail
      })
    })

  const leaveTail = (tail: Tail): Effect.Effect<void> =>
    Effect.suspend(() => {
      tail.subscribers--
      if (tail.subscribers > 0) return Effect.void
      if (tails.get(tail.streamId) === tail) tails.delete(tail.streamId)
      return tail.reader === undefined ? Effect.void : Fiber.interruptFork(tail.reader)
    })

  /** Waits until the tail has something for `query` after `after`; returns the cursor to go on from. */
  const waitOnTail = (tail: Tail, query: EventQuery, after: number): Effect.Effect<number> =>
    Effect.suspend(() => {
      if (tail.stopped || tail.position > after) return Effect.succeed(after)
      const waiter: Waiter = { query, after, wake: Deferred.unsafeMake<void>(FiberId.none) }
      tail.waiters.add(waiter)
      return Deferred.await(waiter.wake).pipe(
        Effect.ensuring(Effect.sync(() => tail.waiters.delete(waiter))),
        Effect.map(() => waiter.after)
      )
    })

  const live = (
    tail: Tail,
    query: EventQuery,
    start: Cursor
  ): Stream.Stream<StoredEvent, StoreError | DecodeError> =>
    Stream.paginateChunkEffect(start, (cursor) =>
      Effect.gen(function* () {
        if (cursor.damaged !== undefined) return yield* cursor.damaged
        let { after, upTo } = cursor
        while (true) {
          const served = takeFrom(tail, query, after)
          if (served !== undefined) {
            after = served.upTo
            upTo = Math.max(upTo, after)
            if (served.events.length > 0)
              return [Chunk.unsafeFromArray(served.events), Option.some({ after, upTo })] as const
            continue
          }
          if (!tail.stopped) {
            if (after >= tail.position) {
              after = yield* waitOnTail(tail, query, after)
              upTo = Math.max(upTo, after)
              continue
            }
            // Behind the tail's window: read up to where it starts.
            upTo = tail.base
          } else if (after >= upTo) {
            upTo = yield* retryWhileSubscribed(waitForHead(query.streamId, after))
          }
          const page = yield* retryWhileSubscribed(
            backend.readPage({ query, after, upTo, limit: backend.pageSize })
          )
          const step = afterPage(page, after, upTo, backend.pageSize)
          if (typeof step !== "number") return yield* step
          after = step
        }
      })
    )

  const subscribe = (query: EventQuery) =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        const head = yield* retryWhileSubscribed(backend.head(query.streamId))
        backend.heads.publish(query.streamId, head)
        const tail = yield* Effect.acquireRelease(joinTail(query.streamId, head), leaveTail)
        return live(tail, query, { after: query.fromSequence ?? 0, upTo: head })
      })
    )

  return { append, read, subscribe, head: backend.head }
}
