/**
 * The one entry point for running agents, for applications and for the CLI.
 *
 * `simpleExecute(prompt)` starts a thread session and runs it to the end; `resume(session)`
 * continues one after a crash or an interrupt. Both run the LLM and tool workers for that
 * session under one scope and return a summary when the thread is done or failed.
 *
 * @since 0.1.0
 */
import type * as LanguageModel from "@effect/ai/LanguageModel"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { ThreadEvents } from "./events/ThreadEvents.js"
import type { Sandbox } from "./sandbox/Sandbox.js"
import { EventStore } from "./store/EventStore.js"
import type { ConcurrencyError, DecodeError, StoreError } from "./store/EventStoreError.js"
import type { EventMetadata } from "./store/StoredEvent.js"
import { Prompt } from "./thread/ThreadCommand.js"
import { threadHandler } from "./thread/ThreadHandler.js"
import { initialThreadState, type ThreadState } from "./thread/ThreadState.js"
import type { TokenUsage } from "./thread/ThreadEvent.js"
import type { Validator } from "./tools/Validator.js"
import * as LlmWorker from "./workers/LlmWorker.js"
import { threadLog } from "./workers/ThreadSource.js"
import * as ToolWorker from "./workers/ToolWorker.js"

/**
 * How a session ended (or where it stopped).
 *
 * @since 0.1.0
 * @category models
 */
export interface ThreadSummary {
  readonly sessionId: string
  readonly status: ThreadState["status"]
  /** The `done` summary, or why the thread failed. */
  readonly message: string
  readonly steps: number
  readonly usage: TokenUsage
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ExecuteOptions {
  /** Default: a fresh id such as `t-3f9a2c1b`. */
  readonly sessionId?: string
  /** LLM turns before the thread fails. Default 50. */
  readonly maxSteps?: number
  readonly system?: string
  /** Default `dabgent`. */
  readonly streamId?: string
  /** Stored with the prompt (e.g. who started it). */
  readonly metadata?: EventMetadata
}

/**
 * @since 0.1.0
 * @category errors
 */
export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()("SessionNotFound", {
  sessionId: Schema.String
}) {
  override get message(): string {
    return `no session ${this.sessionId} in this store`
  }
}

/**
 * @since 0.1.0
 * @category errors
 */
export type AgentError = StoreError | DecodeError | ConcurrencyError | SessionNotFound

/**
 * The default stream every session lives in.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStreamId = "dabgent"

/**
 * A new thread session id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const newSessionId = (): string => `t-${randomBytes(4).toString("hex")}`

const summaryOf = (sessionId: string, state: ThreadState): ThreadSummary => ({
  sessionId,
  status: state.status,
  message: state.status === "Done" ? state.summary : state.status === "Failed" ? state.reason : "",
  steps: state.steps,
  usage: state.usage
})

const isTerminal = (state: ThreadState) => state.status === "Done" || state.status === "Failed"

type Requirements = EventStore | LanguageModel.LanguageModel | Sandbox | Validator

/**
 * Runs the workers for one session until its thread is terminal.
 *
 * @since 0.1.0
 * @category running
 */
export const runSession = (
  sessionId: string,
  streamId: string = defaultStreamId
): Effect.Effect<ThreadSummary, StoreError | DecodeError, Requirements> =>
  Effect.scoped(
    Effect.gen(function* () {
      const store = yield* EventStore
      const scope = { streamId, sessionId }
      const workers = yield* Effect.forkScoped(
        Effect.all([LlmWorker.run(scope), ToolWorker.run(scope)], { concurrency: "unbounded", discard: true })
      )
      const settled = threadLog(store)
        .subscribe({ streamId, aggregateId: sessionId })
        .pipe(
          Stream.scan(initialThreadState, (state, decoded) => threadHandler.apply(state, decoded.event)),
          Stream.filter(isTerminal),
          Stream.runHead
        )
      const state = yield* Effect.raceFirst(
        settled,
        Effect.flatMap(Fiber.join(workers), () =>
          Effect.dieMessage("the workers stopped before the thread ended")
        )
      )
      return summaryOf(sessionId, state._tag === "Some" ? state.value : initialThreadState)
    })
  ).pipe(Effect.withSpan("DabgentAgent.runSession", { attributes: { sessionId } }))

/**
 * Records the prompt of a new thread session (nothing runs yet).
 *
 * @since 0.1.0
 * @category running
 */
export const startThread = (
  prompt: string,
  options: ExecuteOptions = {}
): Effect.Effect<string, AgentError, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const sessionId = options.sessionId ?? newSessionId()
    const events = yield* Effect.orDie(
      threadHandler.process(
        initialThreadState,
        new Prompt({
          prompt,
          maxSteps: options.maxSteps ?? 50,
          ...(options.system === undefined ? {} : { system: options.system })
        })
      )
    )
    yield* threadLog(store)
      .append(ThreadEvents, {
        streamId: options.streamId ?? defaultStreamId,
        aggregateId: sessionId,
        events,
        expectedVersion: 0,
        metadata: { correlationId: sessionId, ...options.metadata }
      })
      .pipe(Effect.catchTag("ParseError", Effect.die))
    return sessionId
  })

/**
 * The current state of a session's thread, folded from the log.
 *
 * @since 0.1.0
 * @category reading
 */
export const threadState = (
  sessionId: string,
  streamId: string = defaultStreamId
): Effect.Effect<
  { readonly state: ThreadState; readonly version: number },
  StoreError | DecodeError,
  EventStore
> =>
  Effect.flatMap(EventStore, (store) =>
    threadLog(store)
      .read({ streamId, aggregateId: sessionId })
      .pipe(
        Stream.runFold({ state: initialThreadState, version: 0 }, (acc, decoded) => ({
          state: threadHandler.apply(acc.state, decoded.event),
          version: decoded.stored.version
        }))
      )
  )

/**
 * @since 0.1.0
 * @category tags
 */
export class DabgentAgent extends Context.Tag("dabgent/DabgentAgent")<
  DabgentAgent,
  {
    /** Starts a thread on `prompt` and runs it until done or failed. */
    readonly simpleExecute: (
      prompt: string,
      options?: ExecuteOptions
    ) => Effect.Effect<ThreadSummary, AgentError>
    /** Continues a session; a tool that was running when it stopped is reported as interrupted. */
    readonly resume: (
      sessionId: string,
      options?: { readonly streamId?: string }
    ) => Effect.Effect<ThreadSummary, AgentError>
  }
>() {
  /**
   * The agent over the services in context: a store, a model, a sandbox and a validator.
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layer: Layer.Layer<DabgentAgent, never, Requirements> = Layer.effect(
    DabgentAgent,
    Effect.map(Effect.context<Requirements>(), (context) => ({
      simpleExecute: (prompt: string, options: ExecuteOptions = {}) =>
        Effect.flatMap(startThread(prompt, options), (sessionId) =>
          runSession(sessionId, options.streamId)
        ).pipe(Effect.provide(context)),
      resume: (sessionId: string, options: { readonly streamId?: string } = {}) =>
        Effect.gen(function* () {
          const { version } = yield* threadState(sessionId, options.streamId)
          if (version === 0) return yield* new SessionNotFound({ sessionId })
          return yield* runSession(sessionId, options.streamId)
        }).pipe(Effect.provide(context))
    }))
  )
}
