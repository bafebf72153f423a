/**
 * The one entry point for running agents, for applications and for the CLI.
 *
 * `simpleExecute(prompt)` starts a thread session and runs it to the end; `resume(session)`
 * continues one after a crash or an interrupt. Both run the LLM and tool workers for that
 * session under one scope and return a summary when the thread is done or failed, or when it
 * waits for a user's answer that the `Clarifier` could not give now; `answer(session, text)`
 * records that answer, and `resume` goes on.
 *
 * @since 0.1.0
 */
import type * as LanguageModel from "@effect/ai/LanguageModel"
import * as Context from "effect/Context"
import type { PlanOptions, PlanSummary } from "./coordinator/Planning.js"
import type { Route } from "./coordinator/Routing.js"
import * as EventCodec from "./events/EventCodec.js"
import * as EventLog from "./events/EventLog.js"
import { RouteChosen, RouteEvents, routeAggregateId } from "./events/SessionEvents.js"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { Clarifier } from "./coordinator/Clarifier.js"
import { ThreadEvents } from "./events/ThreadEvents.js"
import type { Sandbox } from "./sandbox/Sandbox.js"
import * as Supervision from "./coordinator/Supervision.js"
import { EventStore } from "./store/EventStore.js"
import type { ConcurrencyError, DecodeError, StoreError } from "./store/EventStoreError.js"
import * as Attributes from "./telemetry/Attributes.js"
import type { EventMetadata } from "./store/StoredEvent.js"
import { Answer, Prompt } from "./thread/ThreadCommand.js"
import { threadHandler } from "./thread/ThreadHandler.js"
import { initialThreadState, pendingCalls, type ThreadState } from "./thread/ThreadState.js"
import type { TokenUsage } from "./thread/ThreadEvent.js"
import type { Validator } from "./tools/Validator.js"
import type * as AggregateActors from "./workers/internal/AggregateActors.js"
import { inSession, threadLog } from "./workers/ThreadSource.js"

/**
 * How a session ended (or where it stopped).
 *
 * @since 0.1.0
 * @category models
 */
export interface ThreadSummary {
  readonly sessionId: string
  /** `Done`, `Failed`, or `UserWait` when the run stopped for an answer nobody could give now. */
  readonly status: ThreadState["status"]
  /** The `done` summary, why the thread failed, or the question it waits on. */
  readonly message: string
  readonly steps: number
  readonly usage: TokenUsage
  /** With `UserWait`: the open question (answer it with `answer`, then `resume`). */
  readonly question?: string
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
 * `answer` found no question waiting for the user in the session.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoOpenQuestion extends Schema.TaggedError<NoOpenQuestion>()("NoOpenQuestion", {
  sessionId: Schema.String
}) {
  override get message(): string {
    return `session ${this.sessionId} has no open question`
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

const summaryOf = (sessionId: string, state: ThreadState): ThreadSummary => {
  const question = state.status === "UserWait" ? state.questions[0]?.question : undefined
  return {
    sessionId,
    status: state.status,
    message:
      state.status === "Done" ? state.summary : state.status === "Failed" ? state.reason : (question ?? ""),
    steps: state.steps,
    usage: state.usage,
    ...(question === undefined ? {} : { question })
  }
}

const isTerminal = (state: ThreadState) => state.status === "Done" || state.status === "Failed"

/** Nothing can move the thread but the user: every call still without a result waits for an answer. */
const waitsOnlyForUser = (state: ThreadState) =>
  state.status === "UserWait" && pendingCalls(state).every((call) => call.question !== undefined)

type Requirements = EventStore | LanguageModel.LanguageModel | Sandbox | Validator

/**
 * A question of a session that waits for the user's answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface PendingQuestion {
  readonly sessionId: string
  /** The thread that asked (the session's own thread, or one of its tasks' threads). */
  readonly aggregateId: string
  /** The `ask_user` call whose result the answer becomes. */
  readonly callId: string
  readonly question: string
}

interface SessionThread {
  readonly aggregateId: string
  readonly state: ThreadState
  readonly version: number
}

interface Asked {
  readonly thread: SessionThread
  readonly question: PendingQuestion
  /** Where the question was asked in the stream: older questions are answered first. */
  readonly sequence: number
}

/** Every thread of a session (the session's own and `<session>/…`), folded, and its open questions. */
const readSession = (sessionId: string, streamId: string) =>
  Effect.flatMap(EventStore, (store) =>
    threadLog(store)
      .read({ streamId, aggregatePrefix: sessionId })
      .pipe(
        Stream.filter((decoded) => inSession(sessionId, decoded.stored.aggregateId)),
        Stream.runFold(
          { threads: new Map<string, SessionThread>(), askedAt: new Map<string, number>() },
          (acc, { event, stored }) => {
            const before = acc.threads.get(stored.aggregateId)?.state ?? initialThreadState
            acc.threads.set(stored.aggregateId, {
              aggregateId: stored.aggregateId,
              state: threadHandler.apply(before, event),
              version: stored.version
            })
            if (event._tag === "UserQuestionAsked") {
              acc.askedAt.set(`${stored.aggregateId}\u0000${event.callId}`, stored.sequence)
            }
            return acc
          }
        ),
        Effect.map(({ threads, askedAt }) => {
          const asked: Array<Asked> = []
          for (const thread of threads.values()) {
            // `Answer` answers a thread's oldest open question, so only that one can be answered now.
            const open = thread.state.status === "UserWait" ? thread.state.questions[0] : undefined
            if (open === undefined) continue
            asked.push({
              thread,
              question: { sessionId, aggregateId: thread.aggregateId, ...open },
              sequence: askedAt.get(`${thread.aggregateId}\u0000${open.callId}`) ?? 0
            })
          }
          asked.sort((a, b) => a.sequence - b.sequence)
          return { found: threads.size > 0, asked }
        })
      )
  )

/**
 * The questions of a session that wait for the user, oldest first (one per thread: its oldest).
 *
 * @since 0.1.0
 * @category reading
 */
export const openQuestions = (
  sessionId: string,
  streamId: string = defaultStreamId
): Effect.Effect<ReadonlyArray<PendingQuestion>, StoreError | DecodeError | SessionNotFound, EventStore> =>
  Effect.flatMap(readSession(sessionId, streamId), ({ found, asked }) =>
    found ? Effect.succeed(asked.map((a) => a.question)) : Effect.fail(new SessionNotFound({ sessionId }))
  )

/**
 * Which question {@link answerQuestion} answers; by default the session's oldest open question.
 *
 * @since 0.1.0
 * @category models
 */
export interface AnswerOptions {
  readonly streamId?: string
  /** Only a question of this thread. */
  readonly aggregateId?: string
  /** Only this question (when it was answered meanwhile, the answer is not recorded). */
  readonly callId?: string
}

/**
 * Records the user's answer to a session's open question (it becomes the result of the
 * `ask_user` call that asked it); the session's next run goes on from there. Appended with the
 * version the question was read at: when the thread moved meanwhile (another call of the batch
 * finished), the question is read again and the answer appended again.
 *
 * @since 0.1.0
 * @category running
 */
export const answerQuestion = (
  sessionId: string,
  text: string,
  options: AnswerOptions = {}
): Effect.Effect<PendingQuestion, AgentError | NoOpenQuestion, EventStore> => {
  const streamId = options.streamId ?? defaultStreamId
  return Effect.gen(function* () {
    const { found, asked } = yield* readSession(sessionId, streamId)
    if (!found) return yield* new SessionNotFound({ sessionId })
    const target = asked.find(
      (a) =>
        (options.aggregateId === undefined || a.question.aggregateId === options.aggregateId) &&
        (options.callId === undefined || a.question.callId === options.callId)
    )
    if (target === undefined) return yield* new NoOpenQuestion({ sessionId })
    const events = yield* Effect.orDie(threadHandler.process(target.thread.state, new Answer({ text })))
    const store = yield* EventStore
    yield* threadLog(store)
      .append(ThreadEvents, {
        streamId,
        aggregateId: target.thread.aggregateId,
        events,
        expectedVersion: target.thread.version,
        metadata: { correlationId: sessionId }
      })
      .pipe(Effect.catchTag("ParseError", Effect.die))
    return target.question
  }).pipe(Effect.retry({ while: (error) => error._tag === "ConcurrencyError", times: 20 }))
}

/** Folds a thread's history up to the stream's head: the state a run starts from. */
/** The session's thread state and version up to `head`. */
const currentState = (sessionId: string, streamId: string, head: number) =>
  Effect.flatMap(EventStore, (store) =>
    threadLog(store)
      .read({ streamId, aggregateId: sessionId })
      .pipe(
        Stream.takeWhile((decoded) => decoded.stored.sequence <= head),
        Stream.runFold({ state: initialThreadState, version: 0 }, (current, decoded) => ({
          state: threadHandler.apply(current.state, decoded.event),
          version: decoded.stored.version
        }))
      )
  )

/**
 * Runs the workers for one session until its thread is done or failed, or waits only for the
 * user. A question is put to the `Clarifier` in the context, if any: an answer is recorded and
 * the run goes on; without one (no Clarifier, or `None`) the run stops, once the other calls of
 * the batch have finished, with status `UserWait` and the question.
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
      const clarifier = yield* Effect.serviceOption(Clarifier)
      const scope = { streamId, sessionId }
      // The workers' loop hands over the thread's state after each append it applies: the run
      // follows the thread without a subscription of its own.
      const settled = yield* Queue.unbounded<AggregateActors.Snapshot<ThreadState>>()
      const workers = yield* Supervision.startThreadWorkers(scope, (snapshot) => {
        if (snapshot.aggregateId === sessionId) Queue.unsafeOffer(settled, snapshot)
      })
      // Decide on the state now, then on each later append; never on a state in the middle of the
      // history (a question there may have been answered long ago). The loop's catch-up (and a
      // restarted loop's) hands over older states again: only newer versions count.
      const head = yield* store.head(streamId)
      const start = yield* currentState(sessionId, streamId, head)
      let seen = start.version
      const later: Effect.Effect<ThreadState> = Effect.flatMap(Queue.take(settled), (snapshot) => {
        if (snapshot.version <= seen) return later
        seen = snapshot.version
        return Effect.succeed(snapshot.state)
      })
      const states = Stream.concat(Stream.make(start.state), Stream.repeatEffect(later))

      const asked = new Set<string>()
      const unanswered = new Set<string>()
      const ask = (callId: string, question: string) =>
        Effect.gen(function* () {
          asked.add(callId)
          const answer = Option.isSome(clarifier)
            ? yield* clarifier.value.ask({ sessionId, aggregateId: sessionId, question })
            : Option.none<string>()
          if (Option.isNone(answer)) {
            unanswered.add(callId)
            return
          }
          yield* answerQuestion(sessionId, answer.value, { streamId, aggregateId: sessionId, callId }).pipe(
            // Answered meanwhile (e.g. with `dabgent answer`): the thread has moved on.
            Effect.catchTag("NoOpenQuestion", () => Effect.void),
            Effect.catchTags({ SessionNotFound: Effect.die, ConcurrencyError: Effect.die })
          )
        })
      const stopsAt = (state: ThreadState): Effect.Effect<boolean, StoreError | DecodeError, EventStore> => {
        if (isTerminal(state)) return Effect.succeed(true)
        const open = state.status === "UserWait" ? state.questions[0] : undefined
        if (open === undefined) return Effect.succeed(false)
        if (!asked.has(open.callId)) {
          return Effect.map(
            ask(open.callId, open.question),
            () => unanswered.has(open.callId) && waitsOnlyForUser(state)
          )
        }
        return Effect.succeed(unanswered.has(open.callId) && waitsOnlyForUser(state))
      }
      const stopped = states.pipe(Stream.filterEffect(stopsAt), Stream.runHead)
      const state = yield* Effect.raceFirst(
        stopped,
        Effect.flatMap(Fiber.join(workers), () =>
          Effect.dieMessage("the workers stopped before the thread ended")
        )
      )
      return summaryOf(
        sessionId,
        Option.getOrElse(state, () => initialThreadState)
      )
    })
  ).pipe(
    Effect.withSpan("DabgentAgent.runSession", { attributes: { sessionId } }),
    Attributes.withSession(sessionId)
  )

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
    /**
     * Answers the session's open question (a run that stopped with `UserWait`); `resume` then
     * goes on. Fails with `NoOpenQuestion` when nothing waits for an answer.
     */
    readonly answer: (
      sessionId: string,
      text: string,
      options?: AnswerOptions
    ) => Effect.Effect<PendingQuestion, AgentError | NoOpenQuestion>
    /**
     * Plans `input` and executes the plan: each task as a thread, independent tasks in parallel,
     * dependents of a failed task skipped. The planner is loaded on the first call only.
     */
    readonly planAndExecute: (input: string, options?: PlanOptions) => Effect.Effect<PlanSummary, AgentError>
    /** Continues a planner session (after a crash, an interrupt or an answer). */
    readonly resumePlan: (sessionId: string, options?: PlanOptions) => Effect.Effect<PlanSummary, AgentError>
    /**
     * For new users: chooses a single thread or a plan (the model classifies; a heuristic
     * decides when it cannot), records the choice and its reason, and runs it.
     */
    readonly execute: (
      input: string,
      options?: ExecuteOptions & PlanOptions
    ) => Effect.Effect<
      | { readonly route: Route; readonly mode: "thread"; readonly summary: ThreadSummary }
      | { readonly route: Route; readonly mode: "plan"; readonly summary: PlanSummary },
      AgentError
    >
  }
>() {
  /**
   * The agent over the services in context: a store, a model, a sandbox and a validator. A
   * `Clarifier` in the context, if there is one, answers the threads' questions during a run;
   * without one a question stops the run with status `UserWait` (nothing ever blocks on a
   * terminal that is not there).
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layer: Layer.Layer<DabgentAgent, never, Requirements> = Layer.effect(
    DabgentAgent,
    Effect.gen(function* () {
      const required = yield* Effect.context<Requirements>()
      const clarifier = yield* Effect.serviceOption(Clarifier)
      const context = Option.match(clarifier, {
        onNone: () => required,
        onSome: (service) => Context.add(required, Clarifier, service)
      })
      // The planner (and everything only it needs) is loaded on first use.
      const planning = Effect.promise(() => import("./coordinator/Planning.js"))
      const withAsk = (options: PlanOptions): PlanOptions =>
        options.ask !== undefined || Option.isNone(clarifier)
          ? options
          : { ...options, ask: clarifier.value.ask }
      return {
        simpleExecute: (prompt: string, options: ExecuteOptions = {}) =>
          Effect.flatMap(startThread(prompt, options), (sessionId) =>
            runSession(sessionId, options.streamId)
          ).pipe(Effect.provide(context)),
        resume: (sessionId: string, options: { readonly streamId?: string } = {}) =>
          Effect.gen(function* () {
            const { version } = yield* threadState(sessionId, options.streamId)
            if (version === 0) return yield* new SessionNotFound({ sessionId })
            return yield* runSession(sessionId, options.streamId)
          }).pipe(Effect.provide(context)),
        answer: (sessionId: string, text: string, options: AnswerOptions = {}) =>
          answerQuestion(sessionId, text, options).pipe(
            // A planner session's clarification task is answered by the planner.
            Effect.catchTag("NoOpenQuestion", (error) =>
              Effect.flatMap(planning, (Planning) =>
                Effect.flatMap(Planning.answer(sessionId, text, options), (answered) =>
                  answered
                    ? Effect.succeed<PendingQuestion>({
                        sessionId,
                        aggregateId: sessionId,
                        callId: "",
                        question: ""
                      })
                    : Effect.fail(error)
                )
              )
            ),
            Effect.provide(context)
          ),
        planAndExecute: (input: string, options: PlanOptions = {}) =>
          Effect.flatMap(planning, (Planning) => Planning.planAndExecute(input, withAsk(options))).pipe(
            Effect.provide(context)
          ),
        resumePlan: (sessionId: string, options: PlanOptions = {}) =>
          Effect.gen(function* () {
            const Planning = yield* planning
            const view = yield* Planning.readView(sessionId, options.streamId ?? defaultStreamId)
            if (view.plannerVersion === 0) return yield* new SessionNotFound({ sessionId })
            return yield* Planning.runPlanSession(sessionId, withAsk(options))
          }).pipe(Effect.provide(context)),
        execute: (input: string, options: ExecuteOptions & PlanOptions = {}) =>
          Effect.gen(function* () {
            const Routing = yield* Effect.promise(() => import("./coordinator/Routing.js"))
            const route = yield* Routing.classify(input)
            const Planning = route.mode === "plan" ? yield* planning : undefined
            const sessionId =
              options.sessionId ?? (Planning === undefined ? newSessionId() : Planning.newPlanSessionId())
            const store = yield* EventStore
            yield* EventLog.make(store, EventCodec.make(RouteEvents))
              .append(RouteEvents, {
                streamId: options.streamId ?? defaultStreamId,
                aggregateId: routeAggregateId(sessionId),
                events: [new RouteChosen(route)],
                expectedVersion: 0,
                metadata: { correlationId: sessionId }
              })
              .pipe(Effect.catchTag("ParseError", Effect.die))
            if (Planning === undefined) {
              const summary = yield* Effect.flatMap(startThread(input, { ...options, sessionId }), (id) =>
                runSession(id, options.streamId)
              )
              return { route, mode: "thread" as const, summary }
            }
            const summary = yield* Planning.planAndExecute(input, withAsk({ ...options, sessionId }))
            return { route, mode: "plan" as const, summary }
          }).pipe(Effect.provide(context))
      }
    })
  )
}
