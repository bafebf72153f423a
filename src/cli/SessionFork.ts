/**
 * Forking a session: a new session whose log is a copy of another's up to a stream sequence, so
 * `resume` can continue it on a different path while the original stays as it was.
 *
 * The copy is appended aggregate by aggregate in the original's stream order, one append per run
 * of consecutive events of one aggregate (with equal metadata), each with the `expectedVersion`
 * its original had, so every aggregate of the fork gets exactly the original's versions. Data and
 * types are copied verbatim; metadata keeps its fields and gets `correlationId: <fork>` and
 * `forkedFrom: { session, sequence }`. `createdAt` is the time of the copy.
 *
 * There is no transaction across aggregates, so a fork that is interrupted (crash, Ctrl-C, lost
 * connection) leaves a valid prefix: the new session then holds the original's events up to some
 * earlier sequence, in order and with the original versions, exactly what a complete fork at that
 * sequence would hold. `replay` and `resume` work on it; nothing else in the store is touched.
 * The fork's id is printed only after the last append, so run `fork` again for a complete one.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { EventStore } from "../store/EventStore.js"
import type { ConcurrencyError, DecodeError, StoreError } from "../store/EventStoreError.js"
import type { EventMetadata, StoredEvent } from "../store/StoredEvent.js"
import { inSession } from "../workers/ThreadSource.js"
import type { SessionHistory } from "./SessionHistory.js"

/**
 * A new session id of the same kind as `sessionId`: its letters before the first `-` are kept
 * (`t-1a2b3c4d` → `t-…`), with fresh random hex like `newSessionId()`. Ids without such a
 * prefix fork into thread ids (`t-…`).
 *
 * @since 0.1.0
 * @category naming
 */
export const forkIdFor = (sessionId: string): string => {
  const kind = /^([A-Za-z]+)-/.exec(sessionId)?.[1] ?? "t"
  return `${kind}-${randomBytes(4).toString("hex")}`
}

/**
 * An aggregate id of the original session renamed into the fork: `<session>` → `<fork>`,
 * `<session>/task-1` → `<fork>/task-1`.
 *
 * @since 0.1.0
 * @category naming
 */
export const renameAggregate = (aggregateId: string, from: string, to: string): string =>
  aggregateId === from ? to : `${to}${aggregateId.slice(from.length)}`

/**
 * One append of the copy: consecutive events of one aggregate with equal metadata.
 *
 * @since 0.1.0
 * @category models
 */
export interface Batch {
  readonly aggregateId: string
  readonly metadata: EventMetadata
  readonly events: ReadonlyArray<StoredEvent>
}

/**
 * Splits events (in stream order) into the appends that copy them, preserving that order.
 *
 * @since 0.1.0
 * @category planning
 */
export const batches = (events: ReadonlyArray<StoredEvent>): ReadonlyArray<Batch> => {
  const result: Array<{
    aggregateId: string
    metadata: EventMetadata
    key: string
    events: Array<StoredEvent>
  }> = []
  for (const event of events) {
    const key = JSON.stringify(event.metadata)
    const current = result[result.length - 1]
    if (current !== undefined && current.aggregateId === event.aggregateId && current.key === key)
      current.events.push(event)
    else result.push({ aggregateId: event.aggregateId, metadata: event.metadata, key, events: [event] })
  }
  return result.map(({ aggregateId, metadata, events }) => ({ aggregateId, metadata, events }))
}

/**
 * What a fork wrote.
 *
 * @since 0.1.0
 * @category models
 */
export interface ForkResult {
  readonly sessionId: string
  readonly forkedFrom: { readonly session: string; readonly sequence: number }
  readonly events: number
  readonly appends: number
  /** The stream sequences the copy took. */
  readonly firstSequence: number
  readonly lastSequence: number
}

const isTaken = (store: EventStore["Type"], streamId: string, sessionId: string) =>
  Stream.runHead(
    store
      .read({ streamId, aggregatePrefix: sessionId })
      .pipe(Stream.filter((event) => inSession(sessionId, event.aggregateId)))
  ).pipe(Effect.map(Option.isSome))

/** A fresh fork id that no aggregate of the stream uses yet. */
const freshId = (store: EventStore["Type"], streamId: string, sessionId: string) =>
  Effect.gen(function* () {
    for (let attempt = 0; attempt < 8; attempt++) {
      const candidate = forkIdFor(sessionId)
      if (!(yield* isTaken(store, streamId, candidate))) return candidate
    }
    return yield* Effect.dieMessage(`no free session id of the kind of ${sessionId} after 8 tries`)
  })

/**
 * Copies the events of `history` with sequence ≤ `at` into a new session in the same stream.
 * `at` must lie within the history (the caller checks, to report it as a usage error). A
 * `ConcurrencyError` means somebody wrote to the new id while the copy ran.
 *
 * @since 0.1.0
 * @category forking
 */
export const fork = (
  history: SessionHistory,
  at: number
): Effect.Effect<ForkResult, StoreError | DecodeError | ConcurrencyError, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const source = history.sessionId
    const target = yield* freshId(store, history.streamId, source)
    const forkedFrom = { session: source, sequence: at }
    const plan = batches(history.events.filter((event) => event.sequence <= at))
    let firstSequence = 0
    let lastSequence = 0
    let events = 0
    for (const batch of plan) {
      const first = batch.events[0]
      const last = batch.events[batch.events.length - 1]
      if (first === undefined || last === undefined) continue
      const result = yield* store.append({
        streamId: history.streamId,
        aggregateId: renameAggregate(batch.aggregateId, source, target),
        events: batch.events.map((event) => ({ type: event.type, data: event.data })),
        expectedVersion: first.version - 1,
        metadata: { ...batch.metadata, correlationId: target, forkedFrom }
      })
      if (result.version !== last.version) {
        return yield* Effect.dieMessage(
          `fork of ${batch.aggregateId} reached version ${result.version}, expected ${last.version}`
        )
      }
      if (firstSequence === 0) firstSequence = result.firstSequence
      lastSequence = result.lastSequence
      events += batch.events.length
    }
    return { sessionId: target, forkedFrom, events, appends: plan.length, firstSequence, lastSequence }
  })
