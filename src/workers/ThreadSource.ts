/**
 * The thread events a worker follows: one session (an aggregate prefix) or the whole stream.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as EventCodec from "../events/EventCodec.js"
import * as EventLog from "../events/EventLog.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import type { EventStore } from "../store/EventStore.js"
import type { DecodeError } from "../store/EventStoreError.js"
import type { EventQuery, StoredEvent } from "../store/StoredEvent.js"
import type { ThreadEvent } from "../thread/ThreadEvent.js"
import type { Delivered } from "./internal/AggregateActors.js"

/**
 * Which threads a worker serves.
 *
 * @since 0.1.0
 * @category models
 */
export interface WorkerScope {
  readonly streamId: string
  /** Only this session's aggregates: `s1` itself and `s1/…` (not `s10`). All sessions if absent. */
  readonly sessionId?: string
}

/**
 * Whether an aggregate belongs to a session: the session's own id, or below it after a `/`.
 *
 * @since 0.1.0
 * @category filtering
 */
export const inSession = (sessionId: string, aggregateId: string): boolean =>
  aggregateId === sessionId ||
  (aggregateId.startsWith(sessionId) && aggregateId.charAt(sessionId.length) === "/")

/**
 * The typed log of thread events.
 *
 * @since 0.1.0
 * @category constructors
 */
export const threadLog = (store: EventStore["Type"]) => EventLog.make(store, EventCodec.make(ThreadEvents))

/**
 * The catch-up / live sources for `AggregateActors.run`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sources = (store: EventStore["Type"], scope: WorkerScope) => {
  const log = threadLog(store)
  const query: EventQuery = {
    streamId: scope.streamId,
    ...(scope.sessionId === undefined ? {} : { aggregatePrefix: scope.sessionId })
  }
  const mine = (stored: StoredEvent) =>
    scope.sessionId === undefined || inSession(scope.sessionId, stored.aggregateId)
  // An event of another family still takes a version of its aggregate: it is delivered without
  // an event, so the worker's version stays right and its next append does not conflict forever.
  const deliverChunk = (
    chunk: Chunk.Chunk<StoredEvent>
  ): Effect.Effect<Chunk.Chunk<Delivered<ThreadEvent>>, DecodeError> => {
    const delivered: Array<Delivered<ThreadEvent>> = []
    for (const stored of chunk) {
      if (!mine(stored)) continue
      let event: ThreadEvent | undefined
      if (log.codec.knows(stored.type)) {
        const decoded = log.codec.decodeEither(stored)
        if (Either.isLeft(decoded)) return Effect.fail(decoded.left)
        event = decoded.right.event
      }
      delivered.push({
        aggregateId: stored.aggregateId,
        version: stored.version,
        sequence: stored.sequence,
        event
      })
    }
    return Effect.succeed(Chunk.unsafeFromArray(delivered))
  }
  const deliver = <E>(stream: Stream.Stream<StoredEvent, E>) => Stream.mapChunksEffect(stream, deliverChunk)
  return {
    log,
    head: store.head(scope.streamId),
    history: (head: number) =>
      deliver(store.read(query).pipe(Stream.takeWhile((stored) => stored.sequence <= head))),
    live: (head: number) => deliver(store.subscribe({ ...query, fromSequence: head }))
  }
}
