/**
 * What the web UI shows of sessions: one row per session for the list, and a session's detail
 * (its row, its task graph or its thread, and the question it waits on). The rows are the ones
 * `dabgent sessions` prints, folded by the same code (`cli/Sessions.ts`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Planning from "../coordinator/Planning.js"
import * as EventCodec from "../events/EventCodec.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import * as Sessions from "../cli/Sessions.js"
import * as SessionHistory from "../cli/SessionHistory.js"
import * as StoreLocation from "../cli/StoreLocation.js"
import type { PlannerPhase, TaskKind, TaskStatus, PlanningOutcome } from "../planner/PlannerState.js"
import { initialPlannerState, taskList } from "../planner/PlannerState.js"
import type { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import type { StoredEvent } from "../store/StoredEvent.js"
import { threadHandler } from "../thread/ThreadHandler.js"
import { initialThreadState, type ThreadStatus } from "../thread/ThreadState.js"
import * as Bridge from "../workers/PlannerThreadBridge.js"
import * as PlannerWorker from "../workers/PlannerWorker.js"

/**
 * One line of the sessions list. `listed` is false for a session that recorded no
 * `SessionStarted` (started from the API rather than the command line): it has a detail view
 * but no row in the list, as in `dabgent sessions`. No price list is kept, so there is no cost,
 * only tokens.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionRow {
  readonly id: string
  readonly mode: "thread" | "plan"
  readonly status: string
  readonly ended: boolean
  readonly failed: boolean
  readonly startedAt: string
  readonly steps: number
  readonly tokens: number
  readonly model?: string
  readonly input: string
  readonly listed: boolean
}

/**
 * A task of a planner session as a node of its graph. `aggregateId` names its thread when the
 * task runs as one (`tool_call` and `processing` tasks).
 *
 * @since 0.1.0
 * @category models
 */
export interface TaskNode {
  readonly id: string
  readonly description: string
  readonly kind: TaskKind
  readonly dependencies: ReadonlyArray<string>
  readonly status: TaskStatus
  readonly result?: string
  readonly question?: string
  readonly answer?: string
  readonly steps: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly aggregateId?: string
  readonly threadStatus?: ThreadStatus
}

/**
 * The question `dabgent answer` (and the answer box) would answer now.
 *
 * @since 0.1.0
 * @category models
 */
export interface WaitingQuestion {
  readonly aggregateId: string
  readonly taskId?: string
  readonly question: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SessionDetail {
  readonly session: SessionRow
  readonly plan?: {
    readonly input: string
    readonly phase: PlannerPhase
    readonly outcome?: PlanningOutcome
    readonly tasks: ReadonlyArray<TaskNode>
  }
  readonly thread?: {
    readonly aggregateId: string
    readonly status: ThreadStatus
    readonly steps: number
    readonly inputTokens: number
    readonly outputTokens: number
  }
  readonly question?: WaitingQuestion
  /** The last stream sequence folded into this detail: a live feed resumes after it. */
  readonly lastSequence: number
}

const rowOf = (info: Sessions.SessionInfo): SessionRow => ({
  id: info.sessionId,
  mode: info.started.mode,
  status: info.progress.status,
  ended: info.progress.ended,
  failed: info.progress.failed,
  startedAt: info.startedAt.toISOString(),
  steps: info.progress.steps,
  tokens: info.progress.tokens,
  model: info.latest.model,
  input: info.started.input,
  listed: true
})

/**
 * Every listed session, newest first.
 *
 * @since 0.1.0
 * @category reading
 */
export const list: Effect.Effect<
  ReadonlyArray<SessionRow>,
  StoreError | DecodeError,
  EventStore
> = Effect.map(Sessions.list, (all) => all.map(rowOf).reverse())

const threadCodec = EventCodec.make(ThreadEvents)

const foldThread = (events: ReadonlyArray<StoredEvent>, aggregateId: string) =>
  Effect.reduce(
    events.filter((stored) => stored.aggregateId === aggregateId && threadCodec.knows(stored.type)),
    initialThreadState,
    (state, stored) =>
      Effect.map(threadCodec.decode(stored), (decoded) => threadHandler.apply(state, decoded.event))
  )

const emptyView: PlannerWorker.SessionView = {
  planner: initialPlannerState,
  plannerVersion: 0,
  threads: new Map()
}

const foldPlan = (events: ReadonlyArray<StoredEvent>) =>
  Effect.reduce(events, emptyView, (view, stored) =>
    Effect.map(PlannerWorker.route(stored), (routed) => PlannerWorker.applyToView(view, routed))
  )

const isPlan = (history: SessionHistory.SessionHistory) =>
  history.events.some((event) => event.aggregateId === history.sessionId && event.type.startsWith("planner."))

/** The question the planner side of `dabgent answer` picks: the first waiting task in plan order. */
const planQuestion = (sessionId: string, view: PlannerWorker.SessionView): WaitingQuestion | undefined => {
  for (const task of taskList(view.planner)) {
    if (task.status === "needs_clarification")
      return { aggregateId: sessionId, taskId: task.id, question: task.question ?? task.description }
    const open = view.threads.get(task.id)?.state.questions[0]
    if (task.status === "running" && open !== undefined)
      return {
        aggregateId: Bridge.taskAggregateId(sessionId, task.id),
        taskId: task.id,
        question: open.question
      }
  }
  return undefined
}

/**
 * A session's detail, folded from its events now; `None` when the store has no event of it.
 *
 * @since 0.1.0
 * @category reading
 */
export const detail = (
  sessionId: string,
  streamId: string = StoreLocation.defaultStreamId
): Effect.Effect<Option.Option<SessionDetail>, StoreError | DecodeError, EventStore> =>
  Effect.gen(function* () {
    const found = yield* SessionHistory.load(sessionId, streamId)
    if (Option.isNone(found)) return Option.none()
    const history = found.value
    const settings = yield* Sessions.settings(sessionId)
    const first = history.events[0]
    const base = Option.match(settings, {
      onNone: () => ({
        startedAt: (first?.createdAt ?? new Date(0)).toISOString(),
        listed: false
      }),
      onSome: (info) => ({
        startedAt: info.startedAt.toISOString(),
        model: info.latest.model,
        listed: true
      })
    })
    const plan = Option.match(settings, {
      onNone: () => isPlan(history),
      onSome: (info) => info.started.mode === "plan"
    })
    if (plan) {
      const view = yield* foldPlan(history.events)
      const summary = Planning.summarize(sessionId, view, "running")
      const progress = Sessions.planProgressOf(view, summary)
      const question = planQuestion(sessionId, view)
      // The summary's tasks, plus what only the planner and the task threads know.
      const planned = new Map(taskList(view.planner).map((task) => [task.id, task]))
      const tasks = summary.tasks.map(({ usage, ...task }): TaskNode => {
        const plannerTask = planned.get(task.id)
        const thread = view.threads.get(task.id)?.state
        return {
          ...task,
          ...(plannerTask?.question === undefined ? {} : { question: plannerTask.question }),
          ...(plannerTask?.answer === undefined ? {} : { answer: plannerTask.answer }),
          inputTokens: usage.inputTokens,
          outputTokens: usage.outputTokens,
          ...(plannerTask !== undefined && Bridge.runsAsThread(plannerTask)
            ? { aggregateId: Bridge.taskAggregateId(sessionId, task.id) }
            : {}),
          ...(thread === undefined ? {} : { threadStatus: thread.status })
        }
      })
      return Option.some({
        session: {
          id: sessionId,
          mode: "plan",
          status: progress.status,
          ended: progress.ended,
          failed: progress.failed,
          steps: progress.steps,
          tokens: progress.tokens,
          input: view.planner.input,
          ...base
        },
        plan: {
          input: view.planner.input,
          phase: view.planner.phase,
          ...(view.planner.outcome === undefined ? {} : { outcome: view.planner.outcome }),
          tasks
        },
        ...(question === undefined ? {} : { question }),
        lastSequence: history.lastSequence
      } satisfies SessionDetail)
    }
    const state = yield* foldThread(history.events, sessionId)
    const progress = Sessions.threadProgress(state)
    const open = state.status === "UserWait" ? state.questions[0] : undefined
    const prompt = history.events.find(
      (event) => event.type === "thread.Prompted" && event.aggregateId === sessionId
    )
    const input = Option.match(settings, {
      onNone: () => promptOf(prompt),
      onSome: (info) => info.started.input
    })
    return Option.some({
      session: {
        id: sessionId,
        mode: "thread",
        status: progress.status,
        ended: progress.ended,
        failed: progress.failed,
        steps: progress.steps,
        tokens: progress.tokens,
        input,
        ...base
      },
      thread: {
        aggregateId: sessionId,
        status: state.status,
        steps: state.steps,
        inputTokens: state.usage.inputTokens,
        outputTokens: state.usage.outputTokens
      },
      ...(open === undefined ? {} : { question: { aggregateId: sessionId, question: open.question } }),
      lastSequence: history.lastSequence
    } satisfies SessionDetail)
  })

const promptOf = (event: StoredEvent | undefined): string => {
  const data = event?.data
  if (typeof data === "object" && data !== null && "prompt" in data && typeof data.prompt === "string")
    return data.prompt
  return ""
}
