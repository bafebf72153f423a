/**
 * The loop every worker runs: keep the folded state of each live aggregate up to date from the
 * event stream (one `apply` per event, never a reload), and whenever an aggregate's state says
 * an action is owed, run that action in its own fiber — at most one per aggregate at a time.
 *
 * It starts with a catch-up read up to the stream head taken at start, folding without acting
 * (so a history is never answered from a stale middle), then acts on what is owed and goes live.
 *
 * An action returns when the actor may act again: a test on a later snapshot (by default, the
 * version its own append produced, or one more than it saw when somebody else appended first).
 * Events can also be routed to a key other than their aggregate (a planner session folds its
 * planner and its task threads into one view); duplicates are dropped per source aggregate.
 */
import type * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { sessionOf } from "../../events/SessionEvents.js"
import * as Attributes from "../../telemetry/Attributes.js"

export interface Snapshot<S> {
  readonly aggregateId: string
  readonly state: S
  readonly version: number
}

export interface Delivered<E> {
  readonly aggregateId: string
  readonly version: number
  readonly sequence: number
  /** `undefined` for an event of a family this worker does not know: it only takes a version. */
  readonly event: E | undefined
}

/** Whether the actor has seen enough to decide again. */
export type CaughtUp<S> = (snapshot: Snapshot<S>) => boolean

/** The usual test: the entry reached this version. */
export const atVersion =
  <S>(version: number): CaughtUp<S> =>
  (snapshot) =>
    snapshot.version >= version

interface Entry<S> {
  state: S
  /** The aggregate version (or, with `keyOf`, the number of events applied). */
  version: number
  busy: boolean
  caughtUp: CaughtUp<S> | undefined
  /** The last version applied per source aggregate, when events are routed by `keyOf`. */
  readonly sources: Map<string, number>
}

export interface Options<S, E, Err, R, RA> {
  /** Events up to and including `head` (catch-up). */
  readonly history: (head: number) => Stream.Stream<Delivered<E>, Err, R>
  /** Events after `head` (live). */
  readonly live: (head: number) => Stream.Stream<Delivered<E>, Err, R>
  readonly head: Effect.Effect<number, Err, R>
  readonly initial: S
  readonly apply: (state: S, event: E) => S
  /** A terminal aggregate is forgotten (its later events are ignored). */
  readonly isTerminal: (state: S) => boolean
  readonly owes: (snapshot: Snapshot<S>) => boolean
  /** A number `n` is short for `atVersion(n)`. */
  readonly act: (snapshot: Snapshot<S>) => Effect.Effect<CaughtUp<S> | number, never, RA>
  /** The actor an event belongs to; its aggregate by default. */
  readonly keyOf?: (delivered: Delivered<E>) => string
  /** Called after each applied event (for observers such as progress views). */
  readonly onApplied?: (snapshot: Snapshot<S>) => void
  /**
   * Called once per aggregate after each delivered chunk (the events of one append arrive in one
   * chunk) with its state after the chunk, terminal states included: an observer that decides on
   * states never sees one in the middle of an append.
   */
  readonly onSettled?: (snapshot: Snapshot<S>) => void
  /**
   * The worker's name: each action is a span `<name>.step`. A function names each action on its
   * own (one loop serving several kinds of action keeps their spans apart).
   */
  readonly name?: string | ((snapshot: Snapshot<S>) => string)
}

export const run = <S, E, Err, R, RA>(
  options: Options<S, E, Err, R, RA>
): Effect.Effect<void, Err, R | RA | Scope.Scope> =>
  Effect.gen(function* () {
    const entries = new Map<string, Entry<S>>()
    const finished = new Set<string>()
    const actors = yield* FiberSet.make<void, never>()
    const runFork = yield* FiberSet.runtime(actors)<RA>()
    let acting = false
    const name = options.name
    const nameOf = (snapshot: Snapshot<S>): string =>
      name === undefined ? "Worker" : typeof name === "string" ? name : name(snapshot)

    const maybeStart = (aggregateId: string, entry: Entry<S>): void => {
      if (!acting || entry.busy) return
      const snapshot = { aggregateId, state: entry.state, version: entry.version }
      if (entry.caughtUp !== undefined) {
        if (!entry.caughtUp(snapshot)) return
        entry.caughtUp = undefined
      }
      if (!options.owes(snapshot)) return
      entry.busy = true
      runFork(
        options.act(snapshot).pipe(
          Effect.withSpan(`${nameOf(snapshot)}.step`, {
            attributes: { [Attributes.events.version]: snapshot.version }
          }),
          Attributes.withSession(sessionOf(aggregateId), aggregateId),
          Effect.tap((caughtUp) =>
            Effect.sync(() => {
              entry.caughtUp = typeof caughtUp === "number" ? atVersion(caughtUp) : caughtUp
            })
          ),
          Effect.ensuring(
            Effect.sync(() => {
              entry.busy = false
              if (entries.get(aggregateId) === entry) maybeStart(aggregateId, entry)
            })
          ),
          Effect.asVoid
        )
      )
    }

    /** Applies one event; the caller decides once the whole chunk is applied. */
    const deliver = (
      delivered: Delivered<E>,
      touched: Set<string>,
      settled: Map<string, Snapshot<S>> | undefined
    ): void => {
      const key = options.keyOf === undefined ? delivered.aggregateId : options.keyOf(delivered)
      if (finished.has(key)) return
      let entry = entries.get(key)
      if (entry === undefined) {
        entry = { state: options.initial, version: 0, busy: false, caughtUp: undefined, sources: new Map() }
        entries.set(key, entry)
      }
      if (delivered.version <= (entry.sources.get(delivered.aggregateId) ?? 0)) return
      entry.sources.set(delivered.aggregateId, delivered.version)
      if (delivered.event !== undefined) entry.state = options.apply(entry.state, delivered.event)
      entry.version = options.keyOf === undefined ? delivered.version : entry.version + 1
      const aggregateId = key
      options.onApplied?.({ aggregateId, state: entry.state, version: entry.version })
      settled?.set(aggregateId, { aggregateId, state: entry.state, version: entry.version })
      if (options.isTerminal(entry.state) && !entry.busy) {
        entries.delete(aggregateId)
        finished.add(aggregateId)
        return
      }
      touched.add(aggregateId)
    }

    // Events of one append arrive in one chunk: deciding after the chunk, not after each event,
    // keeps a worker from acting on the state between two events of the same decision.
    const deliverChunk = (chunk: Chunk.Chunk<Delivered<E>>) =>
      Effect.sync(() => {
        const touched = new Set<string>()
        const settled = options.onSettled === undefined ? undefined : new Map<string, Snapshot<S>>()
        for (const delivered of chunk) deliver(delivered, touched, settled)
        if (settled !== undefined) for (const snapshot of settled.values()) options.onSettled?.(snapshot)
        for (const aggregateId of touched) {
          const entry = entries.get(aggregateId)
          if (entry !== undefined) maybeStart(aggregateId, entry)
        }
      })

    const head = yield* options.head
    yield* Stream.runForEachChunk(options.history(head), deliverChunk)
    acting = true
    for (const [aggregateId, entry] of entries) maybeStart(aggregateId, entry)
    yield* Effect.raceFirst(Stream.runForEachChunk(options.live(head), deliverChunk), FiberSet.join(actors))
  })
