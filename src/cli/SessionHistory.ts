/**
 * A session's stored events, every aggregate of it, in stream order: what `replay` folds and
 * `fork` copies.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { existsSync } from "node:fs"
import { EventStore } from "../store/EventStore.js"
import { type DecodeError, StoreError } from "../store/EventStoreError.js"
import type { StoredEvent } from "../store/StoredEvent.js"
import { inSession } from "../workers/ThreadSource.js"
import { ExitCode } from "./ExitCode.js"
import * as StoreLocation from "./StoreLocation.js"

/**
 * The raw events of one session (its thread or planner `<session>`, its tasks `<session>/task-…`
 * and its records `<session>/session`), oldest first, with the range of sequences they span.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionHistory {
  readonly sessionId: string
  readonly streamId: string
  /** Never empty. */
  readonly events: ReadonlyArray<StoredEvent>
  readonly firstSequence: number
  readonly lastSequence: number
}

/**
 * Every event of a session committed now, or `None` when the stream has none.
 *
 * @since 0.1.0
 * @category reading
 */
export const load = (
  sessionId: string,
  streamId: string
): Effect.Effect<Option.Option<SessionHistory>, StoreError | DecodeError, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const events = Chunk.toReadonlyArray(
      yield* Stream.runCollect(
        store
          .read({ streamId, aggregatePrefix: sessionId })
          .pipe(Stream.filter((event) => inSession(sessionId, event.aggregateId)))
      )
    )
    const first = events[0]
    const last = events[events.length - 1]
    if (first === undefined || last === undefined) return Option.none()
    return Option.some({
      sessionId,
      streamId,
      events,
      firstSequence: first.sequence,
      lastSequence: last.sequence
    })
  })

/**
 * The events up to a stream sequence (inclusive).
 *
 * @since 0.1.0
 * @category filtering
 */
export const upTo = (history: SessionHistory, sequence: number): ReadonlyArray<StoredEvent> =>
  history.events.filter((event) => event.sequence <= sequence)

const exitWith = (error: unknown): ExitCode =>
  error instanceof ExitCode
    ? error
    : new ExitCode({
        // The store could not be opened or read: a configuration problem. Anything else (an
        // event that does not decode, a write that lost a race) is a failure of the work.
        code: error instanceof StoreError ? 2 : 1,
        message: `dabgent: ${error instanceof Error ? error.message : String(error)}`
      })

/**
 * Opens the store at `location`, loads a session and runs `use` on it, for a command: an unknown
 * session is `ExitCode` 2, a store that cannot be opened 2, any other failure 1. A SQLite file
 * that does not exist is not created (it holds no session).
 *
 * @since 0.1.0
 * @category commands
 */
export const withSession = <A, E>(
  sessionId: string,
  location: StoreLocation.StoreLocation,
  use: (history: SessionHistory) => Effect.Effect<A, E, EventStore>
): Effect.Effect<A, ExitCode> => {
  const unknown = new ExitCode({
    code: 2,
    message: `dabgent: no session ${sessionId} in ${StoreLocation.describe(location)}`
  })
  if (location._tag === "Sqlite" && !existsSync(location.filename)) return Effect.fail(unknown)
  return load(sessionId, StoreLocation.defaultStreamId).pipe(
    Effect.flatMap((found): Effect.Effect<A, E | ExitCode, EventStore> =>
      Option.isSome(found) ? use(found.value) : Effect.fail(unknown)
    ),
    Effect.provide(StoreLocation.layer(location)),
    Effect.mapError(exitWith)
  )
}
