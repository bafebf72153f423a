/**
 * Running one thread session from the command line: resolve the model first (so a missing
 * model writes nothing), open the store, record the session, run the workers with a live
 * timeline, print the summary, and map the outcome to an exit code. A question of the agent is
 * asked inline at a terminal; otherwise the run stops and prints how to answer it (exit code 3).
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { defaultStreamId, runSession, startThread, threadState, type ThreadSummary } from "../DabgentAgent.js"
import * as EventCodec from "../events/EventCodec.js"
import * as EventLog from "../events/EventLog.js"
import { SessionEvents, sessionAggregateId } from "../events/SessionEvents.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import type * as Models from "../llm/Models.js"
import * as ModelSpec from "../llm/ModelSpec.js"
import * as Sandbox from "../sandbox/Sandbox.js"
import { EventStore } from "../store/EventStore.js"
import * as Attributes from "../telemetry/Attributes.js"
import { inSession } from "../workers/ThreadSource.js"
import { ExitCode } from "./ExitCode.js"
import * as RunEnvironment from "./RunEnvironment.js"
import * as SessionRecord from "./SessionRecord.js"
import * as StoreLocation from "./StoreLocation.js"
import * as Timeline from "./Timeline.js"

/**
 * Everything a run needs, after the options and the recorded session are merged.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunConfig extends RunEnvironment.EnvironmentConfig {
  readonly sessionId: string
  readonly maxSteps: number
  readonly json: boolean
  /** A new session with this prompt, or the continuation of a recorded one. */
  readonly start: { readonly _tag: "New"; readonly prompt: string } | { readonly _tag: "Resume" }
  /** Only record the new session for a fleet of workers (`--detach`); nothing runs here. */
  readonly detach?: boolean
  /** The fleet worker continuing the session (recorded with the resume). */
  readonly worker?: string
}

const sessionLog = (store: EventStore["Type"]) => EventLog.make(store, EventCodec.make(SessionEvents))

/** How far the timeline got: the version of the session's thread it printed last. */
interface Printed {
  version: number
}

/** Prints the session's thread events as they are stored, until the thread ends. */
const printTimeline = (
  sessionId: string,
  fromSequence: number,
  stepsSoFar: number,
  json: boolean,
  printed: Printed
) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const render = Timeline.make(stepsSoFar)
    const log = EventLog.make(store, EventCodec.make(ThreadEvents))
    yield* log.subscribe({ streamId: defaultStreamId, aggregatePrefix: sessionId, fromSequence }).pipe(
      Stream.filter((decoded) => inSession(sessionId, decoded.stored.aggregateId)),
      Stream.takeUntil(
        (decoded) => decoded.event._tag === "ThreadDone" || decoded.event._tag === "ThreadFailed"
      ),
      Stream.runForEach((decoded) =>
        (json
          ? Console.log(JSON.stringify(decoded.stored))
          : Effect.forEach(render(decoded.event, decoded.stored), (line) => Console.log(line), {
              discard: true
            })
        ).pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              if (decoded.stored.aggregateId === sessionId) printed.version = decoded.stored.version
            })
          )
        )
      )
    )
  })

/** Lets the timeline print the thread up to `version` (a few seconds at most), then stops it. */
const finishTimeline = (printer: Fiber.RuntimeFiber<unknown, unknown>, printed: Printed, version: number) =>
  Effect.sync(() => printed.version >= version).pipe(
    Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("10 millis") }),
    Effect.timeout("5 seconds"),
    Effect.ignore,
    Effect.zipRight(Fiber.interrupt(printer))
  )

const quoted = (text: string) => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`)

/**
 * The `--store` a follow-up command needs to find this store: the path of a SQLite file that
 * is not the default; nothing for Postgres (its URL may hold a password, so it is never printed).
 *
 * @since 0.1.0
 * @category formatting
 */
export const storeFlag = (store: StoreLocation.StoreLocation): string =>
  store._tag === "Sqlite" && store.filename !== StoreLocation.defaultSqliteFile
    ? ` --store ${quoted(store.filename)}`
    : ""

/** What a user runs to answer a waiting session and go on, exactly. */
const howToAnswer = (config: RunConfig): string => {
  const store = storeFlag(config.store)
  const session = quoted(config.sessionId)
  return [
    `session ${config.sessionId} is waiting for your answer. Answer with:`,
    `  dabgent answer ${session} "<your answer>"${store}`,
    "then continue with:",
    `  dabgent resume ${session}${store}`,
    ...(config.store._tag === "Postgres" ? ["(pass the same --store as this run)"] : [])
  ].join("\n")
}

const printSummary = (summary: ThreadSummary, json: boolean, elapsedMs: number) =>
  json
    ? Console.log(JSON.stringify({ summary }))
    : Console.log(
        [
          "",
          `session ${summary.sessionId}: ${summary.status} after ${summary.steps} steps · ${summary.usage.inputTokens} in / ${summary.usage.outputTokens} out tokens · ${(elapsedMs / 1000).toFixed(1)}s`,
          summary.status === "Done"
            ? `summary: ${summary.message}`
            : summary.status === "UserWait"
              ? `question: ${summary.message}`
              : `reason: ${summary.message}`
        ].join("\n")
      )

/**
 * Records the start of a new session (its settings and prompt) or the resume of a recorded one;
 * returns where the timeline starts.
 */
const record = (config: RunConfig, resolved: Models.Resolved) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const sandbox = yield* Sandbox.Sandbox
    const sessions = sessionLog(store)
    if (config.start._tag === "New") {
      yield* sessions.append(SessionEvents, {
        streamId: defaultStreamId,
        aggregateId: sessionAggregateId(config.sessionId),
        expectedVersion: 0,
        metadata: { correlationId: config.sessionId },
        events: [SessionRecord.started("thread", config.start.prompt, config, resolved, sandbox.kind)]
      })
      yield* startThread(config.start.prompt, { sessionId: config.sessionId, maxSteps: config.maxSteps })
      return { fromSequence: 0, stepsSoFar: 0, version: 0 }
    }
    const fromSequence = yield* store.head(defaultStreamId)
    const current = yield* threadState(config.sessionId)
    yield* sessions.append(SessionEvents, {
      streamId: defaultStreamId,
      aggregateId: sessionAggregateId(config.sessionId),
      metadata: { correlationId: config.sessionId },
      events: [SessionRecord.resumed(config, resolved, sandbox.kind)]
    })
    return { fromSequence, stepsSoFar: current.state.steps, version: current.version }
  })

/**
 * What `--detach` prints: the session id alone on stdout (for scripts), how to follow it on stderr.
 *
 * @since 0.1.0
 * @category formatting
 */
export const printSubmitted = (sessionId: string, store: StoreLocation.StoreLocation) =>
  Effect.zipRight(
    Console.log(sessionId),
    Console.error(
      `session ${sessionId} submitted; a dabgent worker on ${StoreLocation.describe(store)} will run it (watch with: dabgent sessions)`
    )
  )

/**
 * Continues a recorded thread session without printing anything, for a fleet worker: records
 * the resume (and which worker took it) and runs the workers until the thread ends or waits
 * for the user. The store comes from the caller, the rest from {@link RunEnvironment.sessionLayer}.
 *
 * @since 0.1.0
 * @category running
 */
export const serve = (config: RunConfig, resolved: Models.Resolved) =>
  Effect.zipRight(record(config, resolved), runSession(config.sessionId))

/**
 * Runs (or resumes) a thread session; fails with `ExitCode` 1 when the thread failed, 2 on a
 * configuration error and 3 when it stopped to wait for the user's answer.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (config: RunConfig): Effect.Effect<void, ExitCode> =>
  Effect.gen(function* () {
    // The model is checked before anything is opened or written.
    const resolved = yield* RunEnvironment.resolveModel(config)
    const modelName = ModelSpec.format(resolved.spec)
    const started = Date.now()

    const program = Effect.gen(function* () {
      const sandbox = yield* Sandbox.Sandbox
      const recorded = yield* record(config, resolved)
      if (config.detach === true) return yield* printSubmitted(config.sessionId, config.store)
      const { fromSequence, stepsSoFar } = recorded
      const printed: Printed = { version: recorded.version }
      if (!config.json) {
        yield* Console.error(
          `session ${config.sessionId} · ${modelName} · ${sandbox.kind} sandbox in ${config.workdir} · store ${StoreLocation.describe(config.store)}`
        )
      }
      const printer = yield* Effect.fork(
        printTimeline(config.sessionId, fromSequence, stepsSoFar, config.json, printed)
      )
      const summary = yield* runSession(config.sessionId).pipe(
        Effect.onInterrupt(() =>
          Console.error(
            `\ninterrupted; the log is consistent. Continue with: dabgent resume ${config.sessionId}`
          )
        )
      )
      yield* finishTimeline(printer, printed, (yield* threadState(config.sessionId)).version)
      yield* printSummary(summary, config.json, Date.now() - started)
      if (summary.status === "Failed") return yield* new ExitCode({ code: 1, message: "" })
      if (summary.status === "UserWait") return yield* new ExitCode({ code: 3, message: howToAnswer(config) })
    })

    yield* program.pipe(
      Effect.provide(RunEnvironment.layer(config, resolved)),
      RunEnvironment.withExitCodes,
      Attributes.withSession(config.sessionId)
    )
  })
