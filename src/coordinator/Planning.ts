/**
 * Planning sessions end to end: record the input, let the planner worker plan it, run every
 * task as a thread (independent tasks in parallel), and summarize the outcome. Loaded only by
 * programs that plan (`DabgentAgent.planAndExecute`, `dabgent plan|coordinate|run`).
 *
 * @since 0.1.0
 */
import type * as LanguageModel from "@effect/ai/LanguageModel"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import * as EventCodec from "../events/EventCodec.js"
import * as EventRouter from "../events/EventRouter.js"
import * as EventLog from "../events/EventLog.js"
import { PlannerEvents } from "../events/PlannerEvents.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import * as Attachments from "../planner/Attachments.js"
import * as LlmPlanner from "../planner/LlmPlanner.js"
import {
  ClarificationProvided,
  Complete,
  HandleExecutorEvent,
  SubmitPlan
} from "../planner/PlannerCommand.js"
import { plannerHandler } from "../planner/PlannerHandler.js"
import {
  initialPlannerState,
  readyTasks,
  taskList,
  type PlanningOutcome,
  type TaskKind,
  type TaskStatus
} from "../planner/PlannerState.js"
import type { Sandbox } from "../sandbox/Sandbox.js"
import { EventStore } from "../store/EventStore.js"
import type { ConcurrencyError, DecodeError, StoreError } from "../store/EventStoreError.js"
import * as Attributes from "../telemetry/Attributes.js"
import { Answer } from "../thread/ThreadCommand.js"
import type { TokenUsage } from "../thread/ThreadEvent.js"
import { threadHandler } from "../thread/ThreadHandler.js"
import type { Validator } from "../tools/Validator.js"
import * as Bridge from "../workers/PlannerThreadBridge.js"
import * as PlannerWorker from "../workers/PlannerWorker.js"
import { inSession } from "../workers/ThreadSource.js"
import * as SystemCoordinator from "./SystemCoordinator.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface TaskSummary {
  readonly id: string
  readonly description: string
  readonly kind: TaskKind
  readonly dependencies: ReadonlyArray<string>
  readonly status: TaskStatus
  readonly result?: string
  readonly steps: number
  readonly usage: TokenUsage
}

/**
 * How a planning session ended, or where it waits.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlanSummary {
  readonly sessionId: string
  /** `completed` with an outcome, `waiting` for the user, or `planned` (plan only). */
  readonly status: "completed" | "waiting" | "planned" | "running"
  readonly outcome?: PlanningOutcome
  readonly tasks: ReadonlyArray<TaskSummary>
  /** The results of the tasks nothing else depends on. */
  readonly output: string
  readonly usage: TokenUsage
  readonly question?: PlannerWorker.Question
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PlanOptions {
  readonly sessionId?: string
  readonly streamId?: string
  /** Tasks running at once. Default 4. */
  readonly maxParallel?: number
  /** Model turns per task thread. Default 50. */
  readonly maxStepsPerTask?: number
  /** Asks the user; by default nobody answers and the session waits. */
  readonly ask?: (question: PlannerWorker.Question) => Effect.Effect<Option.Option<string>>
}

/**
 * A new planning session id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const newPlanSessionId = (): string => `p-${randomBytes(4).toString("hex")}`

type Requirements = EventStore | LanguageModel.LanguageModel | Sandbox | Validator

const sessionLog = (store: EventStore["Type"]) => EventRouter.plannerLog(store)

/**
 * The session's view folded from the log.
 *
 * @since 0.1.0
 * @category reading
 */
export const readView = (
  sessionId: string,
  streamId: string
): Effect.Effect<PlannerWorker.SessionView, StoreError | DecodeError, EventStore> =>
  Effect.flatMap(EventStore, (store) =>
    store.read({ streamId, aggregatePrefix: sessionId }).pipe(
      Stream.filter((stored) => inSession(sessionId, stored.aggregateId)),
      Stream.mapEffect(PlannerWorker.route),
      Stream.runFold(emptyView, PlannerWorker.applyToView)
    )
  )

const emptyView: PlannerWorker.SessionView = {
  planner: initialPlannerState,
  plannerVersion: 0,
  threads: new Map()
}

/**
 * The summary of a view.
 *
 * @since 0.1.0
 * @category reading
 */
export const summarize = (
  sessionId: string,
  view: PlannerWorker.SessionView,
  status: PlanSummary["status"],
  question?: PlannerWorker.Question
): PlanSummary => {
  const tasks = taskList(view.planner).map((task): TaskSummary => {
    const thread = view.threads.get(task.id)?.state
    return {
      id: task.id,
      description: task.description,
      kind: task.kind,
      dependencies: task.dependencies,
      status: task.status,
      ...(task.result === undefined ? {} : { result: task.result }),
      steps: thread?.steps ?? 0,
      usage: thread?.usage ?? { inputTokens: 0, outputTokens: 0 }
    }
  })
  const leaves = tasks.filter((task) => !tasks.some((other) => other.dependencies.includes(task.id)))
  return {
    sessionId,
    status,
    ...(view.planner.outcome === undefined ? {} : { outcome: view.planner.outcome }),
    tasks,
    output: leaves
      .filter((task) => task.status === "completed" && task.result !== undefined)
      .map((task) => task.result)
      .join("\n\n"),
    usage: tasks.reduce(
      (sum, task) => ({
        inputTokens: sum.inputTokens + task.usage.inputTokens,
        outputTokens: sum.outputTokens + task.usage.outputTokens
      }),
      { inputTokens: 0, outputTokens: 0 }
    ),
    ...(question === undefined ? {} : { question })
  }
}

/** Nothing can move without the user: every open task waits for an answer. */
const quiescent = (view: PlannerWorker.SessionView): boolean =>
  readyTasks(view.planner).length === 0 &&
  taskList(view.planner).every((task) => {
    if (task.status === "needs_clarification") return true
    if (task.status !== "running") return true
    if (!Bridge.runsAsThread(task)) return true
    const thread = view.threads.get(task.id)?.state
    return thread !== undefined && thread.status === "UserWait"
  })

/** Best effort: the log records why the run ended; if even that fails, the error still surfaces. */
const recordFatal = (sessionId: string, streamId: string, reason: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    // Only the planner's own events: the damage may be in a task thread.
    const log = EventLog.make(store, EventCodec.make(PlannerEvents))
    const { state, version } = yield* log.read({ streamId, aggregateId: sessionId }).pipe(
      Stream.runFold({ state: initialPlannerState, version: 0 }, (acc, decoded) => ({
        state: plannerHandler.apply(acc.state, decoded.event),
        version: decoded.stored.version
      }))
    )
    if (state.phase === "completed") return
    const events = yield* plannerHandler.process(
      state,
      new Complete({ force: true, reason: `fatal: ${reason.split("\n")[0] ?? reason}` })
    )
    yield* log.append(PlannerEvents, {
      streamId,
      aggregateId: sessionId,
      events,
      expectedVersion: version,
      metadata: { correlationId: sessionId }
    })
  }).pipe(Effect.ignore)

/**
 * Runs the session's workers until the planning completes, or until it can only wait for the
 * user (then the summary carries the question).
 *
 * @since 0.1.0
 * @category running
 */
export const runPlanSession = (
  sessionId: string,
  options: PlanOptions = {}
): Effect.Effect<PlanSummary, StoreError | DecodeError, Requirements> =>
  Effect.scoped(
    Effect.gen(function* () {
      const store = yield* EventStore
      const streamId = options.streamId ?? "dabgent"
      const waiting = yield* Queue.unbounded<PlannerWorker.Question>()
      const nobody = (_: PlannerWorker.Question) => Effect.succeed(Option.none<string>())
      const ask = (question: PlannerWorker.Question): Effect.Effect<Option.Option<string>> =>
        Effect.flatMap((options.ask ?? nobody)(question), (answer) =>
          Option.isNone(answer)
            ? Effect.as(Queue.offer(waiting, question), Option.none<string>())
            : Effect.succeed<Option.Option<string>>(answer)
        )
      const workers = yield* SystemCoordinator.start({
        streamId,
        sessionId,
        maxStepsPerTask: options.maxStepsPerTask ?? 50,
        ask
      }).pipe(Effect.provide(LlmPlanner.layer))
      let view = emptyView
      let question: PlannerWorker.Question | undefined
      const updates = store.subscribe({ streamId, aggregatePrefix: sessionId }).pipe(
        Stream.filter((stored) => inSession(sessionId, stored.aggregateId)),
        Stream.mapEffect(PlannerWorker.route),
        Stream.map((routed) => Either.right(routed))
      )
      const questions = Stream.fromQueue(waiting).pipe(Stream.map((q) => Either.left(q)))
      const settled = Stream.merge(updates, questions).pipe(
        Stream.map((item) => {
          if (Either.isRight(item)) view = PlannerWorker.applyToView(view, item.right)
          else question = item.left
          if (view.planner.phase === "completed") return summarize(sessionId, view, "completed")
          if (question !== undefined && quiescent(view))
            return summarize(sessionId, view, "waiting", question)
          return undefined
        }),
        Stream.filter((summary): summary is PlanSummary => summary !== undefined),
        Stream.runHead
      )
      const result = yield* Effect.raceFirst(
        settled,
        Effect.flatMap(Fiber.join(workers), () =>
          Effect.dieMessage("the workers stopped before the session ended")
        )
      ).pipe(
        // A failure for good (a damaged event, a defect) ends the session, and the log says why:
        // the planning completes as cancelled with the reason. An interrupt (Ctrl-C) records nothing.
        Effect.tapErrorCause((cause) =>
          Cause.isInterruptedOnly(cause) ? Effect.void : recordFatal(sessionId, streamId, Cause.pretty(cause))
        )
      )
      return Option.getOrElse(result, () => summarize(sessionId, view, "running"))
    })
  ).pipe(
    Effect.withSpan("Planning.runPlanSession", { attributes: { sessionId } }),
    Attributes.withSession(sessionId)
  )

/**
 * Records a planning session (its input and the attachments found in it) without running it.
 *
 * @since 0.1.0
 * @category running
 */
export const startPlanning = (
  input: string,
  options: PlanOptions = {}
): Effect.Effect<string, StoreError | ConcurrencyError, EventStore | Sandbox> =>
  Effect.gen(function* () {
    const sessionId = options.sessionId ?? newPlanSessionId()
    const { attachments } = yield* Attachments.fromInput(input)
    yield* SystemCoordinator.initializePlanning({
      streamId: options.streamId ?? "dabgent",
      sessionId,
      input,
      attachments,
      maxParallel: options.maxParallel ?? 4
    })
    return sessionId
  })

/**
 * Plans `input` and executes the plan: every task as a thread, independent tasks in parallel.
 *
 * @since 0.1.0
 * @category running
 */
export const planAndExecute = (
  input: string,
  options: PlanOptions = {}
): Effect.Effect<PlanSummary, StoreError | DecodeError | ConcurrencyError, Requirements> =>
  Effect.flatMap(startPlanning(input, options), (sessionId) => runPlanSession(sessionId, options))

/**
 * Plans `input` and stops once the plan is recorded: nothing runs (no thread is started).
 *
 * @since 0.1.0
 * @category running
 */
export const planOnly = (
  input: string,
  options: PlanOptions = {}
): Effect.Effect<
  PlanSummary,
  StoreError | DecodeError | ConcurrencyError,
  EventStore | LanguageModel.LanguageModel | Sandbox
> =>
  Effect.gen(function* () {
    const sessionId = yield* startPlanning(input, options)
    const planner = yield* LlmPlanner.make
    const streamId = options.streamId ?? "dabgent"
    const view = yield* readView(sessionId, streamId)
    const result = yield* Effect.either(planner.plan(view.planner.input, view.planner.attachments))
    const command = Either.isRight(result)
      ? new SubmitPlan({ tasks: result.right.tasks })
      : new Complete({ force: true, reason: `planning failed: ${result.left.reason}` })
    const events = yield* Effect.orDie(plannerHandler.process(view.planner, command))
    const store = yield* EventStore
    yield* sessionLog(store)
      .append(PlannerEvents, {
        streamId,
        aggregateId: sessionId,
        events,
        expectedVersion: view.plannerVersion,
        metadata: {
          correlationId: sessionId,
          ...(Either.isRight(result)
            ? {
                plan: {
                  format: result.right.format,
                  warnings: result.right.warnings,
                  usage: result.right.usage
                }
              }
            : {})
        }
      })
      .pipe(Effect.catchTag("ParseError", Effect.die))
    return summarize(sessionId, yield* readView(sessionId, streamId), "planned")
  })

/**
 * Answers the session's oldest open question (a clarification task, or a task's thread asking
 * the user). `false` when nothing is waiting for an answer.
 *
 * @since 0.1.0
 * @category running
 */
export const answer = (
  sessionId: string,
  text: string,
  options: { readonly streamId?: string } = {}
): Effect.Effect<boolean, StoreError | DecodeError | ConcurrencyError, EventStore> =>
  Effect.gen(function* () {
    const streamId = options.streamId ?? "dabgent"
    const store = yield* EventStore
    const log = sessionLog(store)
    const view = yield* readView(sessionId, streamId)
    for (const task of taskList(view.planner)) {
      if (task.status === "needs_clarification") {
        const events = yield* Effect.orDie(
          plannerHandler.process(
            view.planner,
            new HandleExecutorEvent({ event: new ClarificationProvided({ taskId: task.id, answer: text }) })
          )
        )
        yield* log
          .append(PlannerEvents, {
            streamId,
            aggregateId: sessionId,
            events,
            expectedVersion: view.plannerVersion,
            metadata: { correlationId: sessionId }
          })
          .pipe(Effect.catchTag("ParseError", Effect.die))
        return true
      }
      const thread = view.threads.get(task.id)
      if (task.status === "running" && thread !== undefined && thread.state.questions.length > 0) {
        const events = yield* Effect.orDie(threadHandler.process(thread.state, new Answer({ text })))
        yield* log
          .append(ThreadEvents, {
            streamId,
            aggregateId: Bridge.taskAggregateId(sessionId, task.id),
            events,
            expectedVersion: thread.version,
            metadata: { correlationId: sessionId }
          })
          .pipe(Effect.catchTag("ParseError", Effect.die))
        return true
      }
    }
    return false
  })
