/**
 * Appends what a handler decided, with the version the decision was made on. A
 * `ConcurrencyError` means somebody else acted first: the actor waits for the next version and
 * decides again. A handler rejecting its own worker's command is a bug and dies loudly.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as EventFamily from "../../events/EventFamily.js"
import type { EventLog } from "../../events/EventLog.js"
import type { EventMetadata } from "../../store/StoredEvent.js"
import type { Snapshot } from "./AggregateActors.js"

/**
 * Retries an append while the store is unreachable (a dropped connection, a database restart):
 * every 100 ms, backing off to 2 s, for up to a minute; then the `StoreError` stands. An append
 * that committed before its answer was lost comes back as a `ConcurrencyError`, which every
 * caller already reads as "somebody acted".
 */
export const retryWhileStoreDown = <A, E extends { readonly _tag: string }, R>(
  append: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.retry(append, {
    while: (error) => error._tag === "StoreError",
    schedule: Schedule.jittered(
      Schedule.exponential("100 millis", 2).pipe(Schedule.union(Schedule.spaced("2 seconds")))
    ).pipe(Schedule.upTo("60 seconds"))
  })

export const appendDecision = <F extends EventFamily.EventFamily.Any, G extends F, S, Err>(
  log: EventLog<F>,
  family: G,
  streamId: string,
  snapshot: Snapshot<S>,
  decision: Effect.Effect<ReadonlyArray<EventFamily.EventFamily.Event<G>>, Err>,
  metadata: EventMetadata
): Effect.Effect<number> =>
  Effect.gen(function* () {
    const events = yield* Effect.orDieWith(
      decision,
      (error) =>
        new Error(`handler rejected its worker's command on ${snapshot.aggregateId}: ${String(error)}`)
    )
    if (events.length === 0) return snapshot.version + 1
    const appended = yield* log
      .append(family, {
        streamId,
        aggregateId: snapshot.aggregateId,
        events,
        expectedVersion: snapshot.version,
        metadata
      })
      .pipe(
        retryWhileStoreDown,
        Effect.map((result) => result.version),
        Effect.catchTag("ConcurrencyError", (conflict) =>
          Effect.succeed(conflict.actual > snapshot.version ? conflict.actual : snapshot.version + 1)
        )
      )
    return appended
  }).pipe(Effect.orDie)
