/**
 * Reading sessions back from the log: what each was started with and where its thread stands.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { defaultStreamId, threadState } from "../DabgentAgent.js"
import * as EventCodec from "../events/EventCodec.js"
import * as EventLog from "../events/EventLog.js"
import { SessionEvents, sessionAggregateId, type SessionStarted, sessionOf } from "../events/SessionEvents.js"
import { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import type { ThreadState } from "../thread/ThreadState.js"
import type * as Planning from "../coordinator/Planning.js"
import type * as PlannerWorker from "../workers/PlannerWorker.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface SessionInfo {
  readonly sessionId: string
  readonly started: SessionStarted
  readonly startedAt: Date
  /** The settings of the latest resume, if any, over the started ones. */
  readonly latest: {
    readonly model: string
    readonly baseUrl?: string
    readonly workdir: string
    readonly sandbox: "bwrap" | "local"
  }
  readonly progress: Progress
}

/**
 * Where a session stands, whatever its mode.
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  /** A thread's status (`Agent`, `Done`, …) or a plan's (`planning`, `running`, `completed: all_done`, …). */
  readonly status: string
  readonly ended: boolean
  readonly failed: boolean
  readonly steps: number
  readonly tokens: number
}

/**
 * A thread session's progress, from its folded thread.
 *
 * @since 0.1.0
 * @category reading
 */
export const threadProgress = (state: ThreadState): Progress => ({
  status: state.status,
  ended: state.status === "Done" || state.status === "Failed",
  failed: state.status === "Failed",
  steps: state.steps,
  tokens: state.usage.inputTokens + state.usage.outputTokens
})

/**
 * A planner session's progress, from its folded view (the planner and its task threads).
 *
 * @since 0.1.0
 * @category reading
 */
export const planProgressOf = (
  view: PlannerWorker.SessionView,
  summary: Pick<Planning.PlanSummary, "tasks" | "usage">
): Progress => {
  const phase = view.planner.phase
  return {
    status:
      phase === "completed"
        ? `completed: ${view.planner.outcome ?? "?"}`
        : phase === "awaiting_plan"
          ? "planning"
          : summary.tasks.some((t) => t.status === "needs_clarification")
            ? "waiting"
            : "running",
    ended: phase === "completed",
    failed: phase === "completed" && view.planner.outcome !== "all_done",
    steps: summary.tasks.reduce((sum, t) => sum + t.steps, 0),
    tokens: summary.usage.inputTokens + summary.usage.outputTokens
  }
}

/** A planner session's progress; the planner is loaded only for such sessions. */
const planProgress = (sessionId: string) =>
  Effect.gen(function* () {
    const Planning = yield* Effect.promise(() => import("../coordinator/Planning.js"))
    const view = yield* Planning.readView(sessionId, defaultStreamId)
    const summary = Planning.summarize(
      sessionId,
      view,
      view.planner.phase === "completed" ? "completed" : "running"
    )
    return planProgressOf(view, summary)
  })

const log = (store: EventStore["Type"]) => EventLog.make(store, EventCodec.make(SessionEvents))

/**
 * What a session was started with (and its latest resume), without its progress; `None` when
 * the store holds no `SessionStarted` for it (e.g. a session started from the API).
 *
 * @since 0.1.0
 * @category reading
 */
export const settings = (
  sessionId: string
): Effect.Effect<Option.Option<Omit<SessionInfo, "progress">>, StoreError | DecodeError, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const records = yield* Stream.runCollect(
      log(store).read({ streamId: defaultStreamId, aggregateId: sessionAggregateId(sessionId) })
    )
    let info: Omit<SessionInfo, "progress"> | undefined
    for (const { event, stored } of records) {
      if (event._tag === "SessionStarted") {
        info = {
          sessionId,
          started: event,
          startedAt: stored.createdAt,
          latest: {
            model: event.model,
            ...(event.baseUrl === undefined ? {} : { baseUrl: event.baseUrl }),
            workdir: event.workdir,
            sandbox: event.sandbox
          }
        }
      } else if (info !== undefined) {
        info = {
          ...info,
          latest: {
            model: event.model,
            ...(event.baseUrl === undefined ? {} : { baseUrl: event.baseUrl }),
            workdir: event.workdir,
            sandbox: event.sandbox
          }
        }
      }
    }
    return Option.fromNullable(info)
  })

/**
 * One session, or `None` when the store has no such session.
 *
 * @since 0.1.0
 * @category reading
 */
export const find = (
  sessionId: string
): Effect.Effect<Option.Option<SessionInfo>, StoreError | DecodeError, EventStore> =>
  Effect.gen(function* () {
    const found = yield* settings(sessionId)
    if (Option.isNone(found)) return Option.none()
    const info = found.value
    const progress =
      info.started.mode === "plan"
        ? yield* planProgress(sessionId)
        : threadProgress((yield* threadState(sessionId)).state)
    return Option.some({ ...info, progress })
  })

/**
 * Every session of the store, oldest first.
 *
 * @since 0.1.0
 * @category reading
 */
export const list: Effect.Effect<
  ReadonlyArray<SessionInfo>,
  StoreError | DecodeError,
  EventStore
> = Effect.gen(function* () {
  const store = yield* EventStore
  const starts = yield* Stream.runCollect(
    log(store).read({ streamId: defaultStreamId, types: ["session.SessionStarted"] })
  )
  const ids = [...starts].map((decoded) => sessionOf(decoded.stored.aggregateId))
  const found = yield* Effect.forEach(ids, find, { concurrency: 4 })
  return found.flatMap((info) => (Option.isSome(info) ? [info.value] : []))
})
