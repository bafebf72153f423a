/**
 * The thread events a worker follows: one session (an aggregate prefix) or the whole stream.
 *
 * @since 0.1.0
 */
import * as Stream from "effect/Stream"
import * as EventCodec from "../events/EventCodec.js"
import * as EventLog from "../events/EventLog.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import type { EventStore } from "../store/EventStore.js"
import type { EventQuery } from "../store/StoredEvent.js"
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
  const mine = (decoded: { readonly stored: { readonly aggregateId: string } }) =>
    scope.sessionId === undefined || inSession(scope.sessionId, decoded.stored.aggregateId)
  const toDelivered = (decoded: {
    readonly event: ThreadEvent
    readonly stored: { readonly aggregateId: string; readonly version: number; readonly sequence: number }
  }): Delivered<ThreadEvent> => ({
    aggregateId: decoded.stored.aggregateId,
    version: decoded.stored.version,
    sequence: decoded.stored.sequence,
    event: decoded.event
  })
  return {
    log,
    head: store.head(scope.streamId),
    history: (head: number) =>
      log.read(query).pipe(
        Stream.takeWhile((decoded) => decoded.stored.sequence <= head),
        Stream.filter(mine),
        Stream.map(toDelivered)
      ),
    live: (head: number) =>
      log.subscribe({ ...query, fromSequence: head }).pipe(Stream.filter(mine), Stream.map(toDelivered))
  }
}
