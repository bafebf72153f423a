/**
 * Running a planning session from the command line: check the model first, record the
 * session, plan, run every task as a thread with a live view of the task graph, then print
 * each task's status and result. Exit 0 when every task completed, 1 when some failed, 3 when
 * the session waits for an answer.
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { Clarifier } from "../coordinator/Clarifier.js"
import * as Planning from "../coordinator/Planning.js"
import { defaultStreamId } from "../DabgentAgent.js"
import * as EventCodec from "../events/EventCodec.js"
import * as EventLog from "../events/EventLog.js"
import { PlannerEvents } from "../events/PlannerEvents.js"
import { SessionEvents, sessionAggregateId } from "../events/SessionEvents.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import type * as Models from "../llm/Models.js"
import * as ModelSpec from "../llm/ModelSpec.js"
import * as Sandbox from "../sandbox/Sandbox.js"
import { EventStore } from "../store/EventStore.js"
import * as Attributes from "../telemetry/Attributes.js"
import { taskIdOf } from "../workers/PlannerThreadBridge.js"
import { inSession } from "../workers/ThreadSource.js"
import { ExitCode } from "./ExitCode.js"
import * as RunEnvironment from "./RunEnvironment.js"
import { printSubmitted, type RunConfig } from "./RunThread.js"
import * as SessionRecord from "./SessionRecord.js"
import * as StoreLocation from "./StoreLocation.js"
import * as Timeline from "./Timeline.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface PlanRunConfig extends Omit<RunConfig, "start"> {
  readonly maxParallel: number
  /** Plan only (nothing runs), plan and execute, or continue a recorded session. */
  readonly start:
    | { readonly _tag: "Plan"; readonly input: string }
    | { readonly _tag: "Coordinate"; readonly input: string }
    | { readonly _tag: "Resume" }
}

const shorten = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** The live view of a planning session: the task graph, task status changes, and each task's steps. */
const printLive = (sessionId: string, fromSequence: number, json: boolean) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const log = EventLog.make(store, EventCodec.make(PlannerEvents, ThreadEvents))
    const timelines = new Map<string, ReturnType<typeof Timeline.make>>()
    yield* log.subscribe({ streamId: defaultStreamId, aggregatePrefix: sessionId, fromSequence }).pipe(
      Stream.filter((decoded) => inSession(sessionId, decoded.stored.aggregateId)),
      Stream.takeUntil(
        (decoded) => decoded.family === "planner" && decoded.event._tag === "PlanningCompleted"
      ),
      Stream.runForEach((decoded) => {
        if (json) return Console.log(JSON.stringify(decoded.stored))
        const lines: Array<string> = []
        if (decoded.family === "planner") {
          const event = decoded.event
          switch (event._tag) {
            case "TasksPlanned":
              lines.push(`plan: ${event.tasks.length} tasks`)
              for (const task of event.tasks) {
                const after =
                  task.dependencies.length === 0 ? "" : `  (after ${task.dependencies.join(", ")})`
                lines.push(`  [${task.id}] ${task.kind.padEnd(13)} ${shorten(task.description, 80)}${after}`)
              }
              break
            case "TaskDispatched":
              lines.push(`▸ [${event.taskId}] started`)
              break
            case "TaskStatusUpdated":
              if (event.status === "completed")
                lines.push(`✔ [${event.taskId}] completed: ${shorten(event.result ?? "", 100)}`)
              else if (event.status === "failed")
                lines.push(`✘ [${event.taskId}] failed: ${shorten(event.result ?? "", 100)}`)
              else if (event.status === "skipped")
                lines.push(`– [${event.taskId}] skipped: ${shorten(event.result ?? "", 100)}`)
              break
            case "ClarificationRequested":
              lines.push(`? [${event.taskId}] ${event.question}`)
              break
            case "ClarificationReceived":
              lines.push(`↳ [${event.taskId}] answered: ${shorten(event.answer, 80)}`)
              break
            case "PlanningCompleted":
              lines.push(`planning completed: ${event.outcome}`)
              break
            default:
              break
          }
        } else {
          const taskId = taskIdOf(sessionId, decoded.stored.aggregateId)
          if (
            taskId !== undefined &&
            decoded.event._tag !== "Prompted" &&
            decoded.event._tag !== "ThreadDone" &&
            decoded.event._tag !== "ThreadFailed"
          ) {
            let render = timelines.get(taskId)
            if (render === undefined) {
              render = Timeline.make()
              timelines.set(taskId, render)
            }
            for (const line of render(decoded.event, decoded.stored))
              lines.push(`  [${taskId}] ${line.trimStart()}`)
          }
        }
        return Effect.forEach(lines, (line) => Console.log(line), { discard: true })
      })
    )
  })

const printSummary = (summary: Planning.PlanSummary, json: boolean) => {
  if (json) return Console.log(JSON.stringify({ summary }))
  const lines = [
    "",
    `session ${summary.sessionId}: ${summary.status}${summary.outcome === undefined ? "" : ` (${summary.outcome})`}`
  ]
  for (const task of summary.tasks) {
    const tokens = task.usage.inputTokens + task.usage.outputTokens
    lines.push(
      `  [${task.id}] ${task.status.padEnd(19)} ${String(task.steps).padStart(3)} steps ${String(tokens).padStart(7)} tokens  ${shorten(task.result ?? task.description, 70)}`
    )
  }
  lines.push(`total: ${summary.usage.inputTokens} in / ${summary.usage.outputTokens} out tokens`)
  if (summary.output !== "") lines.push(`output:\n${summary.output}`)
  return Console.log(lines.join("\n"))
}

/** Records the start of a new planning session or the resume of a recorded one; returns where the live view starts. */
const record = (config: PlanRunConfig, resolved: Models.Resolved) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const sandbox = yield* Sandbox.Sandbox
    const sessions = EventLog.make(store, EventCodec.make(SessionEvents))
    const fromSequence = config.start._tag === "Resume" ? yield* store.head(defaultStreamId) : 0
    yield* sessions.append(SessionEvents, {
      streamId: defaultStreamId,
      aggregateId: sessionAggregateId(config.sessionId),
      metadata: { correlationId: config.sessionId },
      events: [
        config.start._tag === "Resume"
          ? SessionRecord.resumed(config, resolved, sandbox.kind)
          : SessionRecord.started("plan", config.start.input, config, resolved, sandbox.kind)
      ]
    })
    return fromSequence
  })

/**
 * Continues a recorded planning session without printing anything, for a fleet worker: records
 * the resume and runs the session's workers until the planning completes or waits for the user.
 *
 * @since 0.1.0
 * @category running
 */
export const serve = (config: PlanRunConfig, resolved: Models.Resolved) =>
  Effect.gen(function* () {
    const clarifier = yield* Clarifier
    yield* record(config, resolved)
    return yield* Planning.runPlanSession(config.sessionId, {
      sessionId: config.sessionId,
      maxParallel: config.maxParallel,
      maxStepsPerTask: config.maxSteps,
      ask: clarifier.ask
    })
  })

/**
 * @since 0.1.0
 * @category running
 */
export const run = (config: PlanRunConfig): Effect.Effect<void, ExitCode> =>
  Effect.gen(function* () {
    const resolved = yield* RunEnvironment.resolveModel(config)
    const modelName = ModelSpec.format(resolved.spec)
    const options: Planning.PlanOptions = {
      sessionId: config.sessionId,
      maxParallel: config.maxParallel,
      maxStepsPerTask: config.maxSteps
    }

    const program = Effect.gen(function* () {
      const sandbox = yield* Sandbox.Sandbox
      const clarifier = yield* Clarifier
      const fromSequence = yield* record(config, resolved)
      if (config.detach === true) {
        if (config.start._tag !== "Resume") yield* Planning.startPlanning(config.start.input, options)
        return yield* printSubmitted(config.sessionId, config.store)
      }
      if (!config.json) {
        yield* Console.error(
          `session ${config.sessionId} · plan · ${modelName} · ${sandbox.kind} sandbox in ${config.workdir} · store ${StoreLocation.describe(config.store)}`
        )
      }
      const printer = yield* Effect.fork(printLive(config.sessionId, fromSequence, config.json))
      const summary =
        config.start._tag === "Plan"
          ? yield* Planning.planOnly(config.start.input, options)
          : config.start._tag === "Coordinate"
            ? yield* Planning.planAndExecute(config.start.input, { ...options, ask: clarifier.ask })
            : yield* Planning.runPlanSession(config.sessionId, { ...options, ask: clarifier.ask })
      yield* Effect.sleep("100 millis")
      yield* Fiber.interrupt(printer)
      yield* printSummary(summary, config.json)
      if (summary.status === "waiting" && summary.question !== undefined) {
        return yield* new ExitCode({
          code: 3,
          message: [
            "",
            `The session waits for an answer to: ${summary.question.question}`,
            `Answer with:  dabgent answer ${config.sessionId} "<your answer>"`,
            `Then:         dabgent resume ${config.sessionId}`
          ].join("\n")
        })
      }
      if (summary.status === "planned" && !config.json) {
        yield* Console.log(`\nNothing ran. Execute it with: dabgent resume ${config.sessionId}`)
      }
      if (summary.status === "completed" && summary.outcome !== "all_done")
        return yield* new ExitCode({ code: 1, message: "" })
    }).pipe(
      Effect.onInterrupt(() =>
        Console.error(
          `\ninterrupted; the log is consistent. Continue with: dabgent resume ${config.sessionId}`
        )
      )
    )

    yield* program.pipe(
      Effect.provide(RunEnvironment.layer(config, resolved)),
      RunEnvironment.withExitCodes,
      Attributes.withSession(config.sessionId)
    )
  })
