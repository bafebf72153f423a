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
        // A dropped connection is worth a few tries before the worker gives up.
        Effect.retry({
          while: (error) => error._tag === "StoreError",
          schedule: Schedule.intersect(
            Schedule.jittered(Schedule.exponential("100 millis")),
            Schedule.recurs(5)
          )
        }),
        Effect.map((result) => result.version),
        Effect.catchTag("ConcurrencyError", (conflict) =>
          Effect.succeed(conflict.actual > snapshot.version ? conflict.actual : snapshot.version + 1)
        )
      )
    return appended
  }).pipe(Effect.orDie)
