import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Handler from "../../src/Handler.js"
import * as HandlerSpec from "../../src/testing/HandlerSpec.js"
import {
  AgentNudged,
  Compact,
  defaultBudget,
  estimateTokens,
  InvalidCompaction,
  InvalidTransition,
  LlmCompleted,
  makePolicy,
  messageTokens,
  nudgeMessage,
  planCompaction,
  Prompted,
  ThreadCommand,
  ThreadCompacted,
  ThreadCompaction,
  ThreadDone,
  ThreadEvent,
  ThreadFailed,
  ThreadFinished,
  threadHandler,
  type ThreadState,
  type ToolCall,
  ToolCompleted,
  ToolStarted,
  truncateToTokens,
  UserQuestionAsked
} from "../../src/thread/index.js"

const spec = HandlerSpec.forHandler(threadHandler)

// Fixtures -------------------------------------------------------------------------------------

const usage = { inputTokens: 100, outputTokens: 20 }
const summaryUsage = { inputTokens: 900, outputTokens: 50 }
const prompted = new Prompted({ prompt: "Tidy the repository", maxSteps: 100 })
const lsCall = (i: number): ToolCall => ({ id: `c-${i}`, name: "ls", params: { path: `dir-${i}` } })
const turned = (...toolCalls: ReadonlyArray<ToolCall>) =>
  new LlmCompleted({
    text: toolCalls.length > 0 ? "Looking." : "Thinking.",
    toolCalls,
    usage,
    finishReason: toolCalls.length > 0 ? "tool-calls" : "stop"
  })
const result = (c: ToolCall, output: unknown) =>
  new ToolCompleted({ callId: c.id, name: c.name, result: output, isError: false })
/** One turn that hands the thread back to the model: two history messages (assistant, tool). */
const lsStep = (i: number, output: unknown = `file-${i}.txt`): Array<ThreadEvent> => [
  turned(lsCall(i)),
  new ToolStarted({ callId: `c-${i}`, name: "ls" }),
  result(lsCall(i), output)
]
const compact = (from: number, replacedMessages: number, summary = "Listed dir-0 and dir-1.") =>
  new Compact({ summary, from, replacedMessages, usage: summaryUsage })
const compacted = (from: number, replacedMessages: number, summary = "Listed dir-0 and dir-1.") =>
  new ThreadCompacted({ summary, from, replacedMessages, usage: summaryUsage })

/** prompt, then three ls turns: history = [user, assistant, tool, assistant, tool, assistant, tool]. */
const threeSteps = [prompted, ...lsStep(0), ...lsStep(1), ...lsStep(2)]

const roles = (state: ThreadState) => Chunk.toReadonlyArray(state.history).map((m) => m.role)
const check =
  (assert: (state: ThreadState) => void) =>
  <E>(self: Effect.Effect<ThreadState, E>): Effect.Effect<ThreadState, E> =>
    Effect.tap(self, (state) => Effect.sync(() => assert(state)))

// ----------------------------------------------------------------------------------------------

describe("Thread: Compact accepted", () => {
  it.effect("the two oldest turns after the prompt -> ThreadCompacted; one summary replaces them", () =>
    spec
      .given(threeSteps)
      .when(compact(1, 4))
      .thenEvents([compacted(1, 4)])
      .pipe(
        check((s) => {
          expect(s.status).toBe("Agent")
          expect(roles(s)).toEqual(["user", "summary", "assistant", "tool"])
          expect(Chunk.toReadonlyArray(s.history).slice(0, 2)).toEqual([
            { role: "user", text: "Tidy the repository" },
            { role: "summary", text: "Listed dir-0 and dir-1." }
          ])
          expect(Chunk.toReadonlyArray(s.history)[3]).toMatchObject({ role: "tool", callId: "c-2" })
        })
      )
  )

  it.effect("the summary's tokens count in the usage; it is not a step", () =>
    spec
      .given(threeSteps)
      .when(compact(1, 4))
      .thenEvents([compacted(1, 4)])
      .pipe(
        check((s) => {
          expect(s.steps).toBe(3)
          expect(s.usage).toEqual({ inputTokens: 300 + 900, outputTokens: 60 + 50 })
        })
      )
  )

  it.effect("the whole history, prompt included (from 0 to the end) -> one summary message", () =>
    spec
      .given(threeSteps)
      .when(compact(0, 7, "Everything so far."))
      .thenEvents([compacted(0, 7, "Everything so far.")])
      .pipe(
        check((s) =>
          expect(Chunk.toReadonlyArray(s.history)).toEqual([{ role: "summary", text: "Everything so far." }])
        )
      )
  )

  it.effect("a range ending at a nudge (a user message) is whole turns", () =>
    spec
      .given([prompted, ...lsStep(0), turned(), new AgentNudged({ message: nudgeMessage })])
      .when(compact(1, 3))
      .thenEvents([compacted(1, 3)])
      .pipe(check((s) => expect(roles(s)).toEqual(["user", "summary", "user"])))
  )

  it.effect("a later compaction replaces the previous summary along with newer turns", () =>
    spec
      .given([...threeSteps, compacted(1, 4, "first"), ...lsStep(3)])
      .when(compact(1, 3, "second"))
      .thenEvents([compacted(1, 3, "second")])
      .pipe(
        check((s) => {
          expect(roles(s)).toEqual(["user", "summary", "assistant", "tool"])
          expect(Chunk.toReadonlyArray(s.history)[1]).toEqual({ role: "summary", text: "second" })
          expect(Chunk.toReadonlyArray(s.history)[2]).toMatchObject({ role: "assistant" })
          expect(Chunk.toReadonlyArray(s.history)[3]).toMatchObject({ callId: "c-3" })
          expect(s.usage.inputTokens).toBe(400 + 2 * 900)
        })
      )
  )
})

describe("Thread: Compact rejected", () => {
  const rejects = [
    { name: "starting at a tool result", from: 2, count: 2, reason: /starts at a tool result/ },
    { name: "ending before a tool result", from: 1, count: 1, reason: /ends before a tool result/ },
    { name: "running past the end of the history", from: 1, count: 7, reason: /past the end/ },
    { name: "starting past the end of the history", from: 9, count: 1, reason: /past the end/ }
  ]
  for (const { count, from, name, reason } of rejects) {
    it.effect(`a range ${name} -> InvalidCompaction`, () =>
      spec
        .given(threeSteps)
        .when(compact(from, count))
        .thenError(
          InvalidCompaction,
          (e) =>
            e.from === from && e.replacedMessages === count && e.historyLength === 7 && reason.test(e.reason)
        )
    )
  }

  const notBetweenTurns: ReadonlyArray<[string, ReadonlyArray<ThreadEvent>]> = [
    ["Idle", []],
    ["Tools", [prompted, ...lsStep(0), turned(lsCall(1))]],
    [
      "UserWait",
      [
        prompted,
        turned({ id: "c-ask", name: "ask_user", params: {} }),
        new UserQuestionAsked({ callId: "c-ask", question: "Which?" })
      ]
    ]
  ]
  for (const [status, events] of notBetweenTurns) {
    it.effect(`Compact in ${status} -> InvalidTransition (only between turns)`, () =>
      spec
        .given(events)
        .when(compact(0, 1))
        .thenError(InvalidTransition, (e) => e.state === status && e.command === "Compact")
    )
  }

  for (const [status, end] of [
    ["Done", new ThreadDone({ summary: "ok" })],
    ["Failed", new ThreadFailed({ reason: "boom" })]
  ] as const) {
    it.effect(`Compact when ${status} -> ThreadFinished`, () =>
      spec
        .given([...threeSteps, end])
        .when(compact(1, 4))
        .thenError(ThreadFinished, (e) => e.state === status && e.command === "Compact")
    )
  }

  it("a Compact replacing nothing, or from a negative index, cannot be built", () => {
    expect(() => compact(1, 0)).toThrow()
    expect(() => compact(-1, 2)).toThrow()
    expect(() => compact(1.5, 2)).toThrow()
  })
})

describe("Thread: folding with compactions", () => {
  const events = [...threeSteps, compacted(1, 4), ...lsStep(3), compacted(1, 3, "again"), ...lsStep(4)]

  it("fold over a compacted history equals applying the events one by one", () => {
    let stepwise = threadHandler.initial
    for (const event of events) stepwise = threadHandler.apply(stepwise, event)
    const folded = Handler.fold(threadHandler, events)
    expect(folded).toEqual(stepwise)
    expect(roles(folded)).toEqual(["user", "summary", "assistant", "tool", "assistant", "tool"])
    expect(folded).toMatchObject({ status: "Agent", steps: 5 })
    expect(folded.usage).toEqual({ inputTokens: 500 + 1800, outputTokens: 100 + 100 })
  })

  it("a compaction leaves the previous state untouched", () => {
    const before = spec.given(threeSteps).state
    const after = threadHandler.apply(before, compacted(1, 4))
    expect(Chunk.size(before.history)).toBe(7)
    expect(Chunk.size(after.history)).toBe(4)
  })

  it("a long thread compacted every ten turns keeps a bounded history", () => {
    const steps = 500
    const all: Array<ThreadEvent> = [new Prompted({ prompt: "long", maxSteps: steps + 1 })]
    let state = Handler.fold(threadHandler, all)
    let largest = 0
    for (let i = 0; i < steps; i++) {
      const turn = lsStep(i, `output ${i}`)
      if (i % 10 === 9) turn.push(compacted(1, Chunk.size(state.history) + 2 - 1 - 4, `up to ${i}`))
      for (const event of turn) state = threadHandler.apply(state, event)
      all.push(...turn)
      largest = Math.max(largest, Chunk.size(state.history))
    }
    expect(state.steps).toBe(steps)
    // At most: the prompt, a summary, the 2 turns kept and the 9 turns since the last compaction.
    expect(largest).toBeLessThanOrEqual(1 + 1 + 2 * 2 + 2 * 9)
    expect(roles(state).slice(0, 2)).toEqual(["user", "summary"])
    expect(Chunk.toReadonlyArray(state.history)[1]).toEqual({ role: "summary", text: "up to 499" })
    expect(Handler.fold(threadHandler, all)).toEqual(state)
  })
})

describe("Thread: compaction schemas", () => {
  it.effect("ThreadCompacted and Compact survive encode -> JSON -> decode", () =>
    Effect.gen(function* () {
      const event = compacted(1, 4)
      const decodedEvent = yield* Schema.decodeUnknown(ThreadEvent)(
        JSON.parse(JSON.stringify(yield* Schema.encode(ThreadEvent)(event)))
      )
      expect(decodedEvent).toEqual(event)
      expect(decodedEvent).toBeInstanceOf(ThreadCompacted)
      const command = compact(1, 4)
      const decodedCommand = yield* Schema.decodeUnknown(ThreadCommand)(
        JSON.parse(JSON.stringify(yield* Schema.encode(ThreadCommand)(command)))
      )
      expect(decodedCommand).toEqual(command)
    })
  )

  it("decoding rejects a stored compaction with a bad range or no usage", () => {
    const decode = Schema.decodeUnknownEither(ThreadEvent)
    const base = { _tag: "ThreadCompacted", summary: "s", from: 1, replacedMessages: 2, usage: summaryUsage }
    expect(Either.isRight(decode(base))).toBe(true)
    expect(Either.isLeft(decode({ ...base, replacedMessages: 0 }))).toBe(true)
    expect(Either.isLeft(decode({ ...base, from: -1 }))).toBe(true)
    expect(Either.isLeft(decode({ ...base, usage: undefined }))).toBe(true)
  })
})

// The pure selection the LLM worker uses --------------------------------------------------------

/** A thread of `steps` ls turns whose results are `outputChars` characters each. */
const bigThread = (steps: number, outputChars: number): ThreadState =>
  Handler.fold(threadHandler, [
    prompted,
    ...Array.from({ length: steps }, (_, i) => lsStep(i, `${i}:`.padEnd(outputChars, "x"))).flat()
  ])

const promptTokens = (state: ThreadState, overhead: number) =>
  overhead + Chunk.toReadonlyArray(state.history).reduce((sum, m) => sum + messageTokens(m), 0)

describe("planCompaction", () => {
  const policy = makePolicy({ budget: 2_000, keepRecent: 2 })
  const overhead = 150

  it("nothing to do while the prompt fits the budget", () => {
    const state = bigThread(3, 400)
    expect(promptTokens(state, overhead)).toBeLessThan(policy.budget)
    expect(planCompaction(state.history, overhead, policy)).toBeUndefined()
  })

  it("past the budget: keeps the prompt and the latest turns, and brings the prompt under half the budget", () => {
    const state = bigThread(12, 800)
    expect(promptTokens(state, overhead)).toBeGreaterThan(policy.budget)
    const plan = planCompaction(state.history, overhead, policy)
    expect(plan).toBeDefined()
    if (plan === undefined) return
    expect(plan.from).toBe(1)
    const length = Chunk.size(state.history)
    expect(plan.from + plan.replacedMessages).toBeLessThanOrEqual(length - 2 * 2)
    const summary = "s".repeat(policy.summaryTokens * 4)
    const after = threadHandler.apply(state, compacted(plan.from, plan.replacedMessages, summary))
    expect(promptTokens(after, overhead)).toBeLessThanOrEqual(policy.budget / 2)
    // The shortest such range: one turn less would not fit.
    const less = threadHandler.apply(state, compacted(plan.from, plan.replacedMessages - 2, summary))
    expect(promptTokens(less, overhead)).toBeGreaterThan(policy.budget / 2)
  })

  it.effect("every plan is a range the handler accepts", () =>
    Effect.gen(function* () {
      for (const steps of [6, 9, 17]) {
        for (const keepRecent of [0, 1, 3]) {
          const state = bigThread(steps, 1_500)
          const plan = planCompaction(state.history, overhead, makePolicy({ budget: 2_000, keepRecent }))
          expect(plan).toBeDefined()
          if (plan === undefined) continue
          const events = yield* threadHandler.process(
            state,
            new Compact({ summary: "s", ...plan, usage: summaryUsage })
          )
          expect(events).toHaveLength(1)
        }
      }
    })
  )

  it("when the kept turns alone are too large, it summarizes all it may and the next plan is nothing", () => {
    const state = bigThread(6, 6_000)
    const plan = planCompaction(state.history, overhead, policy)
    expect(plan).toEqual({ from: 1, replacedMessages: 2 * 4 })
    if (plan === undefined) return
    const after = threadHandler.apply(state, compacted(plan.from, plan.replacedMessages, "short"))
    expect(promptTokens(after, overhead)).toBeGreaterThan(policy.budget)
    // Only the summary could go, and replacing a summary by a summary gains nothing.
    expect(planCompaction(after.history, overhead, policy)).toBeUndefined()
  })

  it("the default policy: a 60,000-token budget, 4 turns kept, summaries up to an eighth", () => {
    expect(makePolicy()).toEqual({ budget: defaultBudget, keepRecent: 4, summaryTokens: 7_500 })
    expect(defaultBudget).toBe(60_000)
  })
})

describe("truncateToTokens", () => {
  it("leaves text that fits unchanged", () => {
    expect(truncateToTokens("short", 10)).toBe("short")
  })

  it("keeps the beginning and the end of longer text, within the limit, and says what it cut", () => {
    const text = `BEGIN ${"m".repeat(10_000)} END`
    const cut = truncateToTokens(text, 100)
    expect(cut.length).toBeLessThanOrEqual(400)
    expect(estimateTokens(cut)).toBeLessThanOrEqual(100)
    expect(cut.startsWith("BEGIN ")).toBe(true)
    expect(cut.endsWith(" END")).toBe(true)
    const note = /\n… \[(\d+) characters omitted\] …\n/.exec(cut)
    expect(note).not.toBeNull()
    // The note counts exactly what was left out.
    expect(Number(note?.[1])).toBe(text.length - (cut.length - (note?.[0].length ?? 0)))
  })
})

describe("ThreadCompaction policy in the context", () => {
  it.effect("without a layer the default policy applies", () =>
    Effect.map(ThreadCompaction, (policy) => expect(policy).toEqual(makePolicy()))
  )

  it.effect("layer sets the budget; the summary size follows it", () =>
    Effect.map(ThreadCompaction, (policy) =>
      expect(policy).toEqual({ budget: 8_000, keepRecent: 4, summaryTokens: 1_000 })
    ).pipe(Effect.provide(ThreadCompaction.layer({ budget: 8_000 })))
  )

  const withEnv = (env: Record<string, string>) =>
    Layer.provide(
      ThreadCompaction.layerConfig,
      Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    )

  it.effect("layerConfig reads DABGENT_CONTEXT_BUDGET", () =>
    Effect.map(ThreadCompaction, (policy) => expect(policy.budget).toBe(12_345)).pipe(
      Effect.provide(withEnv({ DABGENT_CONTEXT_BUDGET: "12345" }))
    )
  )

  it.effect("layerConfig defaults to 60,000 tokens", () =>
    Effect.map(ThreadCompaction, (policy) => expect(policy.budget).toBe(60_000)).pipe(
      Effect.provide(withEnv({}))
    )
  )

  it.effect("layerConfig rejects a budget that is not a positive integer", () =>
    Effect.gen(function* () {
      for (const value of ["0", "-5", "lots"]) {
        const exit = yield* Effect.exit(
          Effect.provide(ThreadCompaction, withEnv({ DABGENT_CONTEXT_BUDGET: value }))
        )
        expect(exit._tag).toBe("Failure")
      }
    })
  )
})
