/**
 * Builds the `EventStore` service from a backend's few primitives. Paging, catch-up and live
 * subscription are written once here, so every backend behaves the same.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type * as Duration from "effect/Duration"
import type { EventStore } from "../EventStore.js"
import { StoreError, type ConcurrencyError, type DecodeError } from "../EventStoreError.js"
import type { AppendRequest, AppendResult, EventQuery, StoredEvent } from "../StoredEvent.js"
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
        const { events, damaged } = yield* attempt(
          backend.readPage({ query, after, upTo, limit: backend.pageSize })
        )
        if (damaged !== undefined) {
          if (events.length === 0) return yield* damaged
          return [Chunk.unsafeFromArray(events), Option.some({ after, upTo, damaged })] as const
        }
        const last = events[events.length - 1]
        // A full page may have more behind it; a short one means everything up to the bound is read.
        after = events.length === backend.pageSize && last !== undefined ? last.sequence : upTo
        if (events.length > 0) return [Chunk.unsafeFromArray(events), Option.some({ after, upTo })] as const
      }
    })
  )

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

  const waitForHead = (streamId: string, after: number): Effect.Effect<Option.Option<number>, StoreError> =>
    Effect.flatMap(backend.heads.waitBeyond(streamId, after, backend.pollInterval), (woke) =>
      Option.isSome(woke)
        ? Effect.succeed(woke)
        : Effect.flatMap(backend.head(streamId), (head) => {
            if (head > after) {
              backend.heads.publish(streamId, head)
              return Effect.succeed(Option.some(head))
            }
            return waitForHead(streamId, after)
          })
    )

  const subscribe = (query: EventQuery) =>
    Stream.unwrap(
      Effect.map(retryWhileSubscribed(backend.head(query.streamId)), (head) => {
        backend.heads.publish(query.streamId, head)
        return pages(
          backend,
          query,
          { after: query.fromSequence ?? 0, upTo: head },
          (after) => waitForHead(query.streamId, after),
          retryWhileSubscribed
        )
      })
    )

  return { append, read, subscribe, head: backend.head }
}
