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

/**
 * What an append of a decision came to: the version to wait for, and whether this append is the
 * one that was recorded. A conflict can look like success by its version alone (another writer
 * appended exactly one event), so a caller that acts on its own append (the tool worker runs
 * the tool after its `ToolStarted`) must look at `won`.
 */
export interface DecisionOutcome {
  readonly version: number
  readonly won: boolean
}

export const appendDecisionOutcome = <F extends EventFamily.EventFamily.Any, G extends F, S, Err>(
  log: EventLog<F>,
  family: G,
  streamId: string,
  snapshot: Snapshot<S>,
  decision: Effect.Effect<ReadonlyArray<EventFamily.EventFamily.Event<G>>, Err>,
  metadata: EventMetadata
): Effect.Effect<DecisionOutcome> =>
  Effect.gen(function* () {
    const events = yield* Effect.orDieWith(
      decision,
      (error) =>
        new Error(`handler rejected its worker's command on ${snapshot.aggregateId}: ${String(error)}`)
    )
    if (events.length === 0) return { version: snapshot.version + 1, won: false }
    return yield* log
      .append(family, {
        streamId,
        aggregateId: snapshot.aggregateId,
        events,
        expectedVersion: snapshot.version,
        metadata
      })
      .pipe(
        retryWhileStoreDown,
        Effect.map((result) => ({ version: result.version, won: true })),
        Effect.catchTag("ConcurrencyError", (conflict) =>
          Effect.succeed({
            version: conflict.actual > snapshot.version ? conflict.actual : snapshot.version + 1,
            won: false
          })
        )
      )
  }).pipe(Effect.orDie)

export const appendDecision = <F extends EventFamily.EventFamily.Any, G extends F, S, Err>(
  log: EventLog<F>,
  family: G,
  streamId: string,
  snapshot: Snapshot<S>,
  decision: Effect.Effect<ReadonlyArray<EventFamily.EventFamily.Event<G>>, Err>,
  metadata: EventMetadata
): Effect.Effect<number> =>
  Effect.map(
    appendDecisionOutcome(log, family, streamId, snapshot, decision, metadata),
    (outcome) => outcome.version
  )
