/**
 * A worker of a fleet: many processes, on one or many hosts, share the sessions of one store.
 *
 * The unit of ownership is the session: whoever holds a session's lease runs every aggregate
 * of it (its thread, its planner, its task threads), so each aggregate has one owner at a time.
 * The worker follows the log for sessions submitted to the fleet that have not ended, claims
 * leases up to its fair share (the open sessions spread evenly over the live workers, within
 * each worker's `maxSessions`), runs each owned session with `serve` (what `dabgent resume`
 * runs), renews every lease each `leaseTtl / 3`, and interrupts a session at once when its
 * lease was taken or a renewal failed. A finished session is released; on interrupt (SIGTERM)
 * every session is stopped and every lease released at once, so the others take over without
 * waiting for the TTL. A session that waits for the user keeps its owner and goes on when the
 * answer lands in the log.
 *
 * A stale owner (one that paused past its TTL) cannot damage the log: every append carries
 * `expectedVersion`, and a tool the new owner finds started without a result is reported as
 * interrupted, never run again.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as EventCodec from "../events/EventCodec.js"
import { SessionEvents, sessionOf } from "../events/SessionEvents.js"
import { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import { inSession } from "../workers/ThreadSource.js"
import { type LeaseError, Leases, type Owner } from "./Leases.js"

/**
 * A session submitted to the fleet that has not ended.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenSession {
  readonly sessionId: string
  readonly mode: "thread" | "plan"
  /** Where it was started in the stream: older sessions are claimed first. */
  readonly sequence: number
}

/**
 * How one run of a session stopped: it ended (done, failed), or it waits for the user.
 *
 * @since 0.1.0
 * @category models
 */
export type ServeOutcome =
  | { readonly _tag: "Ended"; readonly status: string }
  | { readonly _tag: "Waiting"; readonly question: string }

/**
 * What a worker tells its user, one line each.
 *
 * @since 0.1.0
 * @category models
 */
export type FleetEvent =
  | { readonly _tag: "Ready"; readonly owner: Owner }
  | { readonly _tag: "Claimed"; readonly session: OpenSession }
  | { readonly _tag: "Waiting"; readonly sessionId: string; readonly question: string }
  | {
      readonly _tag: "Released"
      readonly sessionId: string
      /** `ended`: the session finished; `failed`: this worker could not run it; `shutdown`. */
      readonly reason: "ended" | "failed" | "shutdown"
      readonly detail: string
    }
  | { readonly _tag: "Lost"; readonly sessionId: string; readonly reason: string }

/**
 * @since 0.1.0
 * @category models
 */
export interface FleetOptions<E, R> {
  readonly owner: Owner
  readonly streamId: string
  /** How long a lease lasts without renewal: the bound on a takeover after a crash. */
  readonly leaseTtl: Duration.Duration
  /** How often the worker looks for sessions to claim besides notifications. Default 1 second. */
  readonly pollInterval?: Duration.Duration
  /** After a failed run, how long this worker leaves the session to others. Default 30 seconds. */
  readonly retryAfter?: Duration.Duration
  /** Runs one session until it ends or waits for the user (what `dabgent resume` runs). */
  readonly serve: (session: OpenSession) => Effect.Effect<ServeOutcome, E, R>
  readonly report: (event: FleetEvent) => Effect.Effect<void>
}

/**
 * The default lease TTL: a crashed worker's sessions are taken over within it (plus one poll).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLeaseTtl: Duration.Duration = Duration.seconds(6)

const sessionCodec = EventCodec.make(SessionEvents)

/** The event types that open or end a session. */
const lifecycleTypes = [
  "session.SessionStarted",
  "thread.ThreadDone",
  "thread.ThreadFailed",
  "planner.PlanningCompleted"
]

/**
 * This worker's share of `open` sessions: the open sessions filled evenly over the live
 * workers' capacities (water-filling), capped by its own.
 *
 * @since 0.1.0
 * @category fairness
 */
export const fairShare = (open: number, capacities: ReadonlyArray<number>, mine: number): number => {
  const top = Math.max(mine, ...capacities)
  let level = 0
  while (level < top && capacities.reduce((sum, cap) => sum + Math.min(cap, level), 0) < open) level++
  return Math.min(mine, level)
}

/**
 * Runs the worker until interrupted; then releases everything it holds.
 *
 * @since 0.1.0
 * @category running
 */
export const run = <E, R>(
  options: FleetOptions<E, R>
): Effect.Effect<void, LeaseError | StoreError | DecodeError, Leases | EventStore | R | Scope.Scope> =>
  Effect.gen(function* () {
    const leases = yield* Leases
    const store = yield* EventStore
    const { owner, leaseTtl, streamId } = options
    const pollInterval = options.pollInterval ?? Duration.seconds(1)
    const retryAfter = Duration.toMillis(options.retryAfter ?? Duration.seconds(30))

    const open = new Map<string, OpenSession>()
    const owned = new Map<string, Fiber.RuntimeFiber<void>>()
    const resting = new Map<string, number>()
    let stopping = false
    const wake = yield* Queue.sliding<void>(1)
    const poke = Queue.offer(wake, undefined)

    yield* leases.heartbeat(owner, leaseTtl)

    // Last in, first run: on shutdown the sessions stop first, then every lease goes back.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        stopping = true
        const fibers = [...owned.values()]
        yield* Fiber.interruptAll(fibers)
        yield* leases
          .releaseAll(owner)
          .pipe(
            Effect.catchAll((error) => Effect.logWarning(`could not release the leases: ${error.message}`))
          )
      })
    )

    /** Runs a session again each time it stopped to wait and something new landed in it. */
    const serveLoop = (session: OpenSession): Effect.Effect<ServeOutcome, E | StoreError | DecodeError, R> =>
      Effect.gen(function* () {
        while (true) {
          const head = yield* store.head(streamId)
          const outcome = yield* options.serve(session)
          if (outcome._tag === "Ended") return outcome
          yield* options.report({ _tag: "Waiting", sessionId: session.sessionId, question: outcome.question })
          // Anything but the session's own records (a resume writes one) means it may go on.
          yield* store.subscribe({ streamId, aggregatePrefix: session.sessionId, fromSequence: head }).pipe(
            Stream.filter(
              (stored) =>
                inSession(session.sessionId, stored.aggregateId) && !stored.type.startsWith("session.")
            ),
            Stream.runHead
          )
        }
      })

    const start = (session: OpenSession) =>
      Effect.gen(function* () {
        // The fiber waits until it is in `owned`, so its exit always finds itself there.
        const registered = yield* Deferred.make<void>()
        const fiber = yield* Effect.forkDaemon(
          Deferred.await(registered).pipe(
            Effect.zipRight(serveLoop(session)),
            Effect.onExit((exit) =>
              Effect.gen(function* () {
                // After a loss the same session may have been claimed again by a new fiber.
                const self = yield* Effect.fiberId
                const current = owned.get(session.sessionId)
                if (current !== undefined && Equal.equals(current.id(), self)) owned.delete(session.sessionId)
                if (Exit.isInterrupted(exit) && !stopping) return // lost: the lease is somebody else's
                yield* leases.release(session.sessionId, owner).pipe(Effect.ignore)
                if (Exit.isSuccess(exit)) {
                  open.delete(session.sessionId)
                  yield* options.report({
                    _tag: "Released",
                    sessionId: session.sessionId,
                    reason: "ended",
                    detail: exit.value._tag === "Ended" ? exit.value.status : ""
                  })
                } else if (Exit.isInterrupted(exit)) {
                  yield* options.report({
                    _tag: "Released",
                    sessionId: session.sessionId,
                    reason: "shutdown",
                    detail: "handed back"
                  })
                } else {
                  resting.set(session.sessionId, (yield* Clock.currentTimeMillis) + retryAfter)
                  const detail = Option.match(Cause.failureOption(exit.cause), {
                    onNone: () => Cause.pretty(exit.cause).split("\n")[0] ?? "the run stopped unexpectedly",
                    onSome: (error) => (error instanceof Error ? error.message : String(error))
                  })
                  yield* options.report({
                    _tag: "Released",
                    sessionId: session.sessionId,
                    reason: "failed",
                    detail
                  })
                }
                yield* poke
              })
            ),
            Effect.asVoid,
            Effect.catchAllCause(() => Effect.void)
          )
        )
        owned.set(session.sessionId, fiber)
        yield* Deferred.succeed(registered, undefined)
      })

    const claim = Effect.gen(function* () {
      if (stopping) return
      const [workers, held] = yield* Effect.all([leases.workers, leases.list])
      const now = yield* Clock.currentTimeMillis
      const capacities = workers.filter((w) => w.owner.key !== owner.key).map((w) => w.owner.maxSessions)
      const target = fairShare(open.size, [...capacities, owner.maxSessions], owner.maxSessions)
      const holder = new Map(held.map((lease) => [lease.sessionId, lease.owner.key]))
      const candidates = [...open.values()].sort((a, b) => a.sequence - b.sequence)
      for (const session of candidates) {
        if (stopping || owned.size >= target) return
        if (owned.has(session.sessionId)) continue
        const other = holder.get(session.sessionId)
        if (other !== undefined && other !== owner.key) continue
        const rest = resting.get(session.sessionId)
        if (rest !== undefined && rest > now) continue
        resting.delete(session.sessionId)
        const lease = yield* leases.acquire(session.sessionId, owner, leaseTtl)
        if (Option.isNone(lease)) continue
        yield* options.report({ _tag: "Claimed", session })
        yield* start(session)
      }
    })

    const renew = Effect.gen(function* () {
      yield* leases.heartbeat(owner, leaseTtl)
      const ids = [...owned.keys()]
      const kept = yield* leases.renew(owner, ids, leaseTtl)
      for (const sessionId of ids) {
        if (kept.has(sessionId)) continue
        yield* loseSession(sessionId, "the lease was taken by another worker")
      }
    }).pipe(
      Effect.catchTag("LeaseError", (error) =>
        // Without a renewal we cannot know we still own anything: stop every session now.
        Effect.forEach(
          [...owned.keys()],
          (sessionId) => loseSession(sessionId, `renewal failed: ${error.reason}`),
          {
            discard: true
          }
        )
      )
    )

    const loseSession = (sessionId: string, reason: string) =>
      Effect.gen(function* () {
        const fiber = owned.get(sessionId)
        if (fiber === undefined) return
        owned.delete(sessionId)
        // Not awaited: stopping a session (its tools, its sandbox) must not delay the renewals of the others.
        yield* Fiber.interruptFork(fiber)
        yield* options.report({ _tag: "Lost", sessionId, reason })
      })

    const discovery = store.subscribe({ streamId, types: lifecycleTypes }).pipe(
      Stream.runForEach((stored) =>
        Effect.gen(function* () {
          if (stored.type === "session.SessionStarted") {
            const decoded = yield* sessionCodec.decode(stored)
            const event = decoded.event
            if (event._tag !== "SessionStarted" || event.detached !== true) return
            const sessionId = sessionOf(stored.aggregateId)
            open.set(sessionId, { sessionId, mode: event.mode, sequence: stored.sequence })
          } else if (sessionOf(stored.aggregateId) === stored.aggregateId) {
            // The end of a session's own thread or planner (a task thread's end is not).
            if (stored.type === "thread.ThreadDone" || stored.type === "thread.ThreadFailed") {
              if (open.get(stored.aggregateId)?.mode === "plan") return
            }
            open.delete(stored.aggregateId)
            resting.delete(stored.aggregateId)
          } else {
            return
          }
          yield* poke
        })
      )
    )

    yield* Effect.forkScoped(
      discovery.pipe(
        Effect.tapError((error) => Effect.logWarning(`following the log failed, again: ${error.message}`)),
        Effect.retry(
          Schedule.jittered(Schedule.exponential("200 millis", 2)).pipe(
            Schedule.union(Schedule.spaced("5 seconds"))
          )
        ),
        Effect.orDie
      )
    )
    yield* Effect.forkScoped(Stream.runForEach(leases.released, () => poke))
    yield* Effect.forkScoped(Effect.repeat(poke, Schedule.spaced(pollInterval)))
    yield* Effect.forkScoped(
      renew.pipe(
        Effect.repeat(Schedule.spaced(Duration.divide(leaseTtl, 3).pipe(Option.getOrElse(() => leaseTtl))))
      )
    )
    yield* options.report({ _tag: "Ready", owner })
    return yield* Queue.take(wake).pipe(
      Effect.zipRight(claim),
      Effect.catchTag("LeaseError", (error) => Effect.logWarning(error.message)),
      Effect.forever
    )
  })
