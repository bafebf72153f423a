/**
 * The planner worker: for each planner session, folds the planner and its task threads into one
 * view and does what the view says is owed — ask the model for a plan, start the thread of a
 * dispatched task, report a finished thread back to the planner, ask the user when a task or a
 * task's thread needs an answer, compact the planner's context past its budget. Every write is
 * an append with the version it was decided on; a conflict means someone else acted.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as EventRouter from "../events/EventRouter.js"
import { PlannerEvents } from "../events/PlannerEvents.js"
import { sessionOf } from "../events/SessionEvents.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import * as Compaction from "../planner/Compaction.js"
import { LlmPlanner } from "../planner/LlmPlanner.js"
import {
  ClarificationProvided,
  CompactContext,
  Complete,
  Continue,
  HandleExecutorEvent,
  SubmitPlan,
  type ExecutorEvent,
  type PlannerCommand
} from "../planner/PlannerCommand.js"
import type { PlannerEvent } from "../planner/PlannerEvent.js"
import { plannerHandler } from "../planner/PlannerHandler.js"
import {
  initialPlannerState,
  inFlightTasks,
  readyTasks,
  taskList,
  type PlannerState,
  type Task
} from "../planner/PlannerState.js"
import { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import type { EventMetadata, EventQuery, StoredEvent } from "../store/StoredEvent.js"
import { Answer, Prompt } from "../thread/ThreadCommand.js"
import type { ThreadEvent } from "../thread/ThreadEvent.js"
import { threadHandler } from "../thread/ThreadHandler.js"
import { initialThreadState, type ThreadState } from "../thread/ThreadState.js"
import * as AggregateActors from "./internal/AggregateActors.js"
import { retryWhileStoreDown } from "./internal/appendDecision.js"
import * as Bridge from "./PlannerThreadBridge.js"
import { inSession, type WorkerScope } from "./ThreadSource.js"

/**
 * A question for the user, from a clarification task or from a task's thread.
 *
 * @since 0.1.0
 * @category models
 */
export interface Question {
  readonly sessionId: string
  readonly aggregateId: string
  readonly taskId: string
  readonly question: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PlannerWorkerOptions extends WorkerScope {
  /** Model turns each task's thread may take. */
  readonly maxStepsPerTask: number
  /** Planner context (in estimated tokens) past which it is summarized. Default 24,000. */
  readonly contextBudget?: number
  /** Asks the user; `None` means nobody can answer now and the session waits. */
  readonly ask: (question: Question) => Effect.Effect<Option.Option<string>>
}

interface TaskThread {
  readonly state: ThreadState
  readonly version: number
}

/**
 * One planner session as the worker sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionView {
  readonly planner: PlannerState
  readonly plannerVersion: number
  readonly threads: ReadonlyMap<string, TaskThread>
}

type Routed =
  | {
      readonly family: "planner"
      readonly aggregateId: string
      readonly version: number
      readonly event: PlannerEvent
    }
  | {
      readonly family: "thread"
      readonly aggregateId: string
      readonly version: number
      readonly event: ThreadEvent
    }
  | {
      /** An event of a family the planner worker does not follow: it only takes a version. */
      readonly family: "other"
      readonly aggregateId: string
      readonly version: number
    }

const emptyView: SessionView = { planner: initialPlannerState, plannerVersion: 0, threads: new Map() }

/**
 * Folds one routed event into the view of its session.
 *
 * @since 0.1.0
 * @category folding
 */
export const applyToView = (view: SessionView, routed: Routed): SessionView => {
  const sessionId = sessionOf(routed.aggregateId)
  if (routed.aggregateId === sessionId) {
    if (routed.family === "thread") return view
    return {
      ...view,
      planner: routed.family === "planner" ? plannerHandler.apply(view.planner, routed.event) : view.planner,
      plannerVersion: routed.version
    }
  }
  const taskId = Bridge.taskIdOf(sessionId, routed.aggregateId)
  if (taskId === undefined || routed.family === "planner") return view
  const threads = new Map(view.threads)
  const previous = threads.get(taskId)?.state ?? initialThreadState
  const state = routed.family === "thread" ? threadHandler.apply(previous, routed.event) : previous
  threads.set(taskId, { state, version: routed.version })
  return { ...view, threads }
}

/**
 * A stored event as the planner worker routes it (decoding the families it follows).
 *
 * @since 0.1.0
 * @category folding
 */
export const route = (stored: StoredEvent): Effect.Effect<Routed, DecodeError> => {
  const base = { aggregateId: stored.aggregateId, version: stored.version }
  if (!EventRouter.plannerCodec.knows(stored.type)) return Effect.succeed({ ...base, family: "other" })
  return Effect.map(EventRouter.plannerCodec.decode(stored), (decoded) =>
    decoded.family === "planner"
      ? { ...base, family: "planner", event: decoded.event }
      : { ...base, family: "thread", event: decoded.event }
  )
}

type Next =
  | { readonly _tag: "Plan" }
  | { readonly _tag: "StartThread"; readonly task: Task }
  | { readonly _tag: "Report"; readonly event: ExecutorEvent }
  | { readonly _tag: "AskForTask"; readonly task: Task }
  | {
      readonly _tag: "AskForThread"
      readonly taskId: string
      readonly thread: TaskThread
      readonly question: string
    }
  | { readonly _tag: "Continue" }
  | { readonly _tag: "Compact" }

/**
 * Runs the worker until interrupted. Requires an `LlmPlanner` for planning and compaction.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  options: PlannerWorkerOptions
): Effect.Effect<void, StoreError | DecodeError, EventStore | LlmPlanner | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const planner = yield* LlmPlanner
    const log = EventRouter.plannerLog(store)
    const budget = options.contextBudget ?? 24_000
    /** Questions already put to the user without an answer, by where they were asked and at which version. */
    const unanswered = new Set<string>()

    const query: EventQuery = {
      streamId: options.streamId,
      ...(options.sessionId === undefined ? {} : { aggregatePrefix: options.sessionId })
    }
    const mine = (aggregateId: string) =>
      options.sessionId === undefined || inSession(options.sessionId, aggregateId)
    const toRouted = <E>(stream: Stream.Stream<StoredEvent, E>) =>
      stream.pipe(
        Stream.filter((stored) => mine(stored.aggregateId)),
        Stream.mapChunksEffect((chunk) =>
          Effect.map(
            Effect.forEach(chunk, (stored) =>
              Effect.map(route(stored), (routed): AggregateActors.Delivered<Routed> => ({
                aggregateId: stored.aggregateId,
                version: stored.version,
                sequence: stored.sequence,
                event: routed
              }))
            ),
            Chunk.unsafeFromArray
          )
        )
      )

    const next = (sessionId: string, view: SessionView): Next | undefined => {
      const state = view.planner
      if (state.phase === "awaiting_plan") return { _tag: "Plan" }
      if (state.phase !== "executing") return undefined
      for (const task of taskList(state)) {
        if (task.status === "running" && Bridge.runsAsThread(task)) {
          const thread = view.threads.get(task.id)
          if (thread === undefined) return { _tag: "StartThread", task }
          const report = Bridge.executorEvent(task.id, thread.state)
          if (report !== undefined) return { _tag: "Report", event: report }
          const open = thread.state.questions[0]
          if (open !== undefined && !unanswered.has(`${sessionId}/${task.id}@${thread.version}`)) {
            return { _tag: "AskForThread", taskId: task.id, thread, question: open.question }
          }
        }
        if (
          task.status === "needs_clarification" &&
          !unanswered.has(`${sessionId}#${task.id}@${view.plannerVersion}`)
        ) {
          return { _tag: "AskForTask", task }
        }
      }
      if (readyTasks(state).length > 0 && inFlightTasks(state).length < state.maxParallel)
        return { _tag: "Continue" }
      if (Compaction.needsCompaction([Compaction.plannerContext(state).text], budget))
        return { _tag: "Compact" }
      return undefined
    }

    const metadataFor = (sessionId: string, extra: EventMetadata = {}): EventMetadata => ({
      correlationId: sessionId,
      ...extra
    })

    /** Decides a planner command on the snapshot and appends it; waits for the planner to move. */
    const decidePlanner = (
      sessionId: string,
      view: SessionView,
      command: PlannerCommand,
      extra: EventMetadata = {}
    ): Effect.Effect<AggregateActors.CaughtUp<SessionView>> =>
      Effect.gen(function* () {
        const decided = yield* Effect.either(plannerHandler.process(view.planner, command))
        // A rejected command means the view is behind (the task already moved): wait for more.
        if (decided._tag === "Left" || decided.right.length === 0) return plannerMoved(view.plannerVersion)
        const appended = yield* log
          .append(PlannerEvents, {
            streamId: options.streamId,
            aggregateId: sessionId,
            events: decided.right,
            expectedVersion: view.plannerVersion,
            metadata: metadataFor(sessionId, extra)
          })
          .pipe(
            retryWhileStoreDown,
            Effect.map((result) => result.version),
            Effect.catchTag("ConcurrencyError", (conflict) =>
              Effect.succeed(Math.max(conflict.actual, view.plannerVersion + 1))
            ),
            Effect.orDie
          )
        return plannerMoved(appended - 1)
      })

    const plannerMoved =
      (beyond: number): AggregateActors.CaughtUp<SessionView> =>
      (snapshot) =>
        snapshot.state.plannerVersion > beyond

    /**
     * After a question nobody answers now: decide again at once. The question is remembered as
     * unanswered, so it is not asked again, and the other tasks go on (a thread that finished
     * meanwhile is reported) instead of waiting for the planner or that thread to move.
     */
    const decideAgain: AggregateActors.CaughtUp<SessionView> = () => true

    const act = (
      snapshot: AggregateActors.Snapshot<SessionView>
    ): Effect.Effect<AggregateActors.CaughtUp<SessionView>> => {
      const sessionId = snapshot.aggregateId
      const view = snapshot.state
      const action = next(sessionId, view)
      if (action === undefined) return Effect.succeed(plannerMoved(view.plannerVersion))
      switch (action._tag) {
        case "Plan":
          return planner.plan(view.planner.input, view.planner.attachments, view.planner.contextSummary).pipe(
            Effect.flatMap((result) =>
              decidePlanner(sessionId, view, new SubmitPlan({ tasks: result.tasks }), {
                plan: { format: result.format, warnings: result.warnings, usage: result.usage }
              })
            ),
            Effect.catchTag("PlannerModelError", (error) =>
              decidePlanner(
                sessionId,
                view,
                new Complete({ force: true, reason: `planning failed: ${error.reason}` })
              )
            ),
            Effect.withSpan("PlannerWorker.plan", { attributes: { sessionId } })
          )
        case "StartThread": {
          const aggregateId = Bridge.taskAggregateId(sessionId, action.task.id)
          return threadHandler
            .process(
              initialThreadState,
              new Prompt({
                prompt: Bridge.taskPrompt(view.planner, action.task),
                maxSteps: options.maxStepsPerTask
              })
            )
            .pipe(
              Effect.orDie,
              Effect.flatMap((events) =>
                log.append(ThreadEvents, {
                  streamId: options.streamId,
                  aggregateId,
                  events,
                  expectedVersion: 0,
                  metadata: metadataFor(sessionId, { causationTask: action.task.id })
                })
              ),
              retryWhileStoreDown,
              Effect.catchTag("ConcurrencyError", () => Effect.void),
              Effect.orDie,
              Effect.as((next: AggregateActors.Snapshot<SessionView>) =>
                next.state.threads.has(action.task.id)
              )
            )
        }
        case "Report":
          return decidePlanner(sessionId, view, new HandleExecutorEvent({ event: action.event }))
        case "Continue":
          return decidePlanner(sessionId, view, new Continue())
        case "AskForTask":
          return options
            .ask({
              sessionId,
              aggregateId: sessionId,
              taskId: action.task.id,
              question: action.task.question ?? action.task.description
            })
            .pipe(
              Effect.flatMap(
                Option.match({
                  onNone: () =>
                    Effect.sync(() => {
                      unanswered.add(`${sessionId}#${action.task.id}@${view.plannerVersion}`)
                      return decideAgain
                    }),
                  onSome: (answer) =>
                    decidePlanner(
                      sessionId,
                      view,
                      new HandleExecutorEvent({
                        event: new ClarificationProvided({ taskId: action.task.id, answer })
                      })
                    )
                })
              )
            )
        case "AskForThread": {
          const aggregateId = Bridge.taskAggregateId(sessionId, action.taskId)
          const threadMoved = (next: AggregateActors.Snapshot<SessionView>) =>
            (next.state.threads.get(action.taskId)?.version ?? 0) > action.thread.version
          return options
            .ask({ sessionId, aggregateId, taskId: action.taskId, question: action.question })
            .pipe(
              Effect.flatMap(
                Option.match({
                  onNone: () =>
                    Effect.sync(() => {
                      unanswered.add(`${sessionId}/${action.taskId}@${action.thread.version}`)
                      return decideAgain
                    }),
                  onSome: (answer) =>
                    threadHandler.process(action.thread.state, new Answer({ text: answer })).pipe(
                      Effect.orDie,
                      Effect.flatMap((events) =>
                        log.append(ThreadEvents, {
                          streamId: options.streamId,
                          aggregateId,
                          events,
                          expectedVersion: action.thread.version,
                          metadata: metadataFor(sessionId)
                        })
                      ),
                      retryWhileStoreDown,
                      Effect.catchTag("ConcurrencyError", () => Effect.void),
                      Effect.orDie,
                      Effect.as(threadMoved)
                    )
                })
              )
            )
        }
        case "Compact": {
          const context = Compaction.plannerContext(view.planner)
          return planner.summarize(context.text, Math.floor(budget / 2)).pipe(
            Effect.flatMap((summary) =>
              decidePlanner(sessionId, view, new CompactContext({ summary, taskIds: context.taskIds }))
            ),
            // Without a summary the context stays as it is; the next planner event retries.
            Effect.catchTag("PlannerModelError", () => Effect.succeed(plannerMoved(view.plannerVersion)))
          )
        }
      }
    }

    yield* AggregateActors.run<SessionView, Routed, StoreError | DecodeError, never, never>({
      head: store.head(options.streamId),
      history: (head) =>
        toRouted(store.read(query).pipe(Stream.takeWhile((stored) => stored.sequence <= head))),
      live: (head) => toRouted(store.subscribe({ ...query, fromSequence: head })),
      keyOf: (delivered) => sessionOf(delivered.aggregateId),
      initial: emptyView,
      apply: applyToView,
      isTerminal: (view) => view.planner.phase === "completed",
      owes: (snapshot) => next(snapshot.aggregateId, snapshot.state) !== undefined,
      act,
      name: "PlannerWorker"
    })
  })
