import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Handler from "../../src/Handler.js"
import * as HandlerSpec from "../../src/testing/HandlerSpec.js"
import {
  AgentNudged,
  Answer,
  AskUser,
  callsInFlight,
  callsToRun,
  CompleteLlm,
  CompleteTool,
  DuplicateToolCallId,
  evolveThread,
  Fail,
  interruptedResult,
  InterruptTool,
  InvalidTransition,
  isJsonValue,
  LlmCompleted,
  maxStepsReason,
  nudgeMessage,
  pendingCalls,
  Prompt,
  Prompted,
  StartTool,
  ThreadCommand,
  ThreadDone,
  ThreadEvent,
  ThreadFailed,
  ThreadFinished,
  ThreadHandler,
  threadHandler,
  type ThreadState,
  ToolCall,
  ToolCallAlreadyCompleted,
  ToolCallAlreadyStarted,
  ToolCallAwaitingUser,
  ToolCallNotStarted,
  ToolCompleted,
  ToolStarted,
  UnknownToolCall,
  UserAnswered,
  UserQuestionAsked
} from "../../src/thread/index.js"

const spec = HandlerSpec.forHandler(threadHandler)

// Fixtures -------------------------------------------------------------------------------------

const usage = { inputTokens: 100, outputTokens: 20 }
const call = (id: string, name: string, params: unknown = {}): ToolCall => ({ id, name, params })
const write = call("c-write", "write_file", { path: "README.md", content: "# Hello" })
const ls = call("c-ls", "ls", { path: "." })
const done = call("c-done", "done", { summary: "Added a README" })
const ask = call("c-ask", "ask_user", { question: "Which license?" })
const ask2 = call("c-ask2", "ask_user", { question: "Which year?" })

const prompted = new Prompted({ prompt: "Add a README", maxSteps: 3, system: "You are careful." })
const llmFields = (toolCalls: ReadonlyArray<ToolCall>) =>
  ({
    text: toolCalls.length > 0 ? "Let me do that." : "I think it is fine.",
    toolCalls,
    usage,
    finishReason: toolCalls.length > 0 ? "tool-calls" : "stop"
  }) as const
const turn = (...toolCalls: ReadonlyArray<ToolCall>) => new CompleteLlm(llmFields(toolCalls))
const turned = (...toolCalls: ReadonlyArray<ToolCall>) => new LlmCompleted(llmFields(toolCalls))
const started = (c: ToolCall) => new ToolStarted({ callId: c.id, name: c.name })
const result = (c: ToolCall, output: unknown, isError = false) =>
  new ToolCompleted({ callId: c.id, name: c.name, result: output, isError })
const complete = (c: ToolCall, output: unknown, isError = false) =>
  new CompleteTool({ callId: c.id, result: output, isError })
const nudged = new AgentNudged({ message: nudgeMessage })

/** One full step that hands the turn back to the model: call `ls`, get its result. */
const lsStep = [turned(ls), started(ls), result(ls, "README.md")]

const check =
  (assert: (state: ThreadState) => void) =>
  <E>(self: Effect.Effect<ThreadState, E>): Effect.Effect<ThreadState, E> =>
    Effect.tap(self, (state) => Effect.sync(() => assert(state)))

const history = (state: ThreadState) => Chunk.toReadonlyArray(state.history)

// ----------------------------------------------------------------------------------------------

describe("Thread: Idle", () => {
  it.effect("Prompt -> Prompted, and the thread waits for the model (Agent)", () =>
    spec
      .given([])
      .when(new Prompt({ prompt: "Add a README", maxSteps: 3, system: "You are careful." }))
      .thenEvents([prompted])
      .pipe(
        check((s) => {
          expect(s.status).toBe("Agent")
          expect(s.maxSteps).toBe(3)
          expect(s.system).toBe("You are careful.")
          expect(history(s)).toEqual([{ role: "user", text: "Add a README" }])
        })
      )
  )

  it.effect("Prompt without a system prompt -> Prompted without one", () =>
    spec
      .given([])
      .when(new Prompt({ prompt: "hi", maxSteps: 1 }))
      .thenEvents([new Prompted({ prompt: "hi", maxSteps: 1 })])
      .pipe(check((s) => expect(s.system).toBeUndefined()))
  )

  for (const command of [
    turn(),
    new StartTool({ callId: "x" }),
    new Answer({ text: "MIT" }),
    new Fail({ reason: "x" })
  ]) {
    it.effect(`${command._tag} before the prompt -> InvalidTransition`, () =>
      spec
        .given([])
        .when(command)
        .thenError(InvalidTransition, (e) => e.state === "Idle" && e.command === command._tag)
    )
  }

  it("a Prompt with a non-positive step budget cannot be built", () => {
    expect(() => new Prompt({ prompt: "hi", maxSteps: 0 })).toThrow()
    expect(() => new Prompt({ prompt: "hi", maxSteps: 1.5 })).toThrow()
  })
})

describe("Thread: Agent", () => {
  it.effect("CompleteLlm with tool calls -> LlmCompleted, Tools, one step and its tokens counted", () =>
    spec
      .given([prompted])
      .when(turn(write, ls))
      .thenEvents([turned(write, ls)])
      .pipe(
        check((s) => {
          expect(s.status).toBe("Tools")
          expect(s.steps).toBe(1)
          expect(s.usage).toEqual(usage)
          expect(pendingCalls(s).map((c) => c.call.id)).toEqual(["c-write", "c-ls"])
          expect(history(s).at(-1)).toEqual({
            role: "assistant",
            text: "Let me do that.",
            toolCalls: [write, ls]
          })
        })
      )
  )

  it.effect(
    "CompleteLlm without tool calls -> LlmCompleted + AgentNudged, back to Agent with the reminder",
    () =>
      spec
        .given([prompted])
        .when(turn())
        .thenEvents([turned(), nudged])
        .pipe(
          check((s) => {
            expect(s.status).toBe("Agent")
            expect(s.steps).toBe(1)
            expect(history(s).at(-1)).toEqual({ role: "user", text: nudgeMessage })
          })
        )
  )

  it.effect("CompleteLlm without tool calls on the last step -> ThreadFailed (max steps)", () =>
    spec
      .given([prompted, ...lsStep, turned(), nudged])
      .when(turn())
      .thenEvents([turned(), new ThreadFailed({ reason: maxStepsReason(3) })])
      .pipe(check((s) => expect(s).toMatchObject({ status: "Failed", steps: 3, reason: maxStepsReason(3) })))
  )

  it("the max-steps reason says what happened", () => {
    expect(maxStepsReason(3)).toMatch(/max steps exceeded.*3 LLM turns.*done/)
  })

  it.effect("CompleteLlm reusing a tool call id -> DuplicateToolCallId", () =>
    spec
      .given([prompted])
      .when(turn(write, call("c-write", "ls")))
      .thenError(DuplicateToolCallId, (e) => e.callId === "c-write")
  )

  it.effect("token usage adds up over turns", () =>
    Effect.sync(() => {
      const state = spec.given([prompted, ...lsStep, turned(ls)]).state
      expect(state.usage).toEqual({ inputTokens: 200, outputTokens: 40 })
      expect(state.steps).toBe(2)
    })
  )

  for (const command of [
    new Prompt({ prompt: "again", maxSteps: 3 }),
    new StartTool({ callId: "c-ls" }),
    complete(ls, "x"),
    new InterruptTool({ callId: "c-ls" }),
    new AskUser({ callId: "c-ls", question: "?" }),
    new Answer({ text: "MIT" })
  ]) {
    it.effect(`${command._tag} while the model owes a turn -> InvalidTransition`, () =>
      spec
        .given([prompted, ...lsStep])
        .when(command)
        .thenError(InvalidTransition, (e) => e.state === "Agent" && e.command === command._tag)
    )
  }

  it.effect("Fail -> ThreadFailed with the reason", () =>
    spec
      .given([prompted])
      .when(new Fail({ reason: "model provider rejected the API key" }))
      .thenEvents([new ThreadFailed({ reason: "model provider rejected the API key" })])
      .pipe(check((s) => expect(s.status).toBe("Failed")))
  )
})

describe("Thread: Tools", () => {
  const tools = [prompted, turned(write, ls)]

  it.effect("StartTool -> ToolStarted with the call's tool name", () =>
    spec
      .given(tools)
      .when(new StartTool({ callId: "c-write" }))
      .thenEvents([started(write)])
      .pipe(
        check((s) => {
          expect(s.status).toBe("Tools")
          expect(callsToRun(s).map((c) => c.call.id)).toEqual(["c-ls"])
        })
      )
  )

  it.effect("StartTool for an unknown call -> UnknownToolCall", () =>
    spec
      .given(tools)
      .when(new StartTool({ callId: "nope" }))
      .thenError(UnknownToolCall, (e) => e.callId === "nope")
  )

  it.effect("StartTool twice -> ToolCallAlreadyStarted (a tool never runs twice)", () =>
    spec
      .given([...tools, started(write)])
      .when(new StartTool({ callId: "c-write" }))
      .thenError(ToolCallAlreadyStarted, (e) => e.callId === "c-write")
  )

  it.effect("StartTool for a completed call -> ToolCallAlreadyCompleted", () =>
    spec
      .given([...tools, started(write), result(write, "ok")])
      .when(new StartTool({ callId: "c-write" }))
      .thenError(ToolCallAlreadyCompleted, (e) => e.callId === "c-write")
  )

  it.effect("CompleteTool with calls still pending -> ToolCompleted, still Tools", () =>
    spec
      .given([...tools, started(write)])
      .when(complete(write, "wrote 7 bytes"))
      .thenEvents([result(write, "wrote 7 bytes")])
      .pipe(check((s) => expect(s.status).toBe("Tools")))
  )

  it.effect("CompleteTool for the last call -> ToolCompleted, results go back to the model (Agent)", () =>
    spec
      .given([...tools, started(write), result(write, "wrote 7 bytes"), started(ls)])
      .when(complete(ls, { entries: ["README.md"] }))
      .thenEvents([result(ls, { entries: ["README.md"] })])
      .pipe(
        check((s) => {
          expect(s.status).toBe("Agent")
          expect(history(s).slice(-2)).toEqual([
            { role: "tool", callId: "c-write", name: "write_file", result: "wrote 7 bytes", isError: false },
            { role: "tool", callId: "c-ls", name: "ls", result: { entries: ["README.md"] }, isError: false }
          ])
        })
      )
  )

  it.effect("CompleteTool without StartTool (a call rejected before running) -> ToolCompleted", () =>
    spec
      .given(tools)
      .when(complete(write, "unknown argument 'content'", true))
      .thenEvents([result(write, "unknown argument 'content'", true)])
  )

  it.effect("CompleteTool twice -> ToolCallAlreadyCompleted", () =>
    spec
      .given([...tools, result(write, "ok")])
      .when(complete(write, "again"))
      .thenError(ToolCallAlreadyCompleted, (e) => e.callId === "c-write")
  )

  it.effect("CompleteTool for a call of an earlier turn -> UnknownToolCall", () =>
    spec
      .given([prompted, ...lsStep, turned(write)])
      .when(complete(ls, "late"))
      .thenError(UnknownToolCall, (e) => e.callId === "c-ls")
  )

  it.effect("the last result on the last step -> ToolCompleted + ThreadFailed (max steps)", () =>
    spec
      .given([prompted, ...lsStep, ...lsStep, turned(ls), started(ls)])
      .when(complete(ls, "README.md"))
      .thenEvents([result(ls, "README.md"), new ThreadFailed({ reason: maxStepsReason(3) })])
      .pipe(check((s) => expect(s.status).toBe("Failed")))
  )

  for (const command of [turn(), new Prompt({ prompt: "x", maxSteps: 1 }), new Answer({ text: "MIT" })]) {
    it.effect(`${command._tag} while tools run -> InvalidTransition`, () =>
      spec
        .given(tools)
        .when(command)
        .thenError(InvalidTransition, (e) => e.state === "Tools" && e.command === command._tag)
    )
  }

  it.effect("Fail -> ThreadFailed", () =>
    spec
      .given(tools)
      .when(new Fail({ reason: "sandbox is gone" }))
      .thenEvents([new ThreadFailed({ reason: "sandbox is gone" })])
  )
})

describe("Thread: done", () => {
  it.effect("an accepted done -> ToolCompleted + ThreadDone with the done call's summary", () =>
    spec
      .given([prompted, turned(done), started(done)])
      .when(complete(done, "validation passed"))
      .thenEvents([result(done, "validation passed"), new ThreadDone({ summary: "Added a README" })])
      .pipe(check((s) => expect(s).toMatchObject({ status: "Done", summary: "Added a README" })))
  )

  it.effect("an accepted done without a summary parameter -> the result is the summary", () => {
    const bare = call("c-done", "done")
    return spec
      .given([prompted, turned(bare)])
      .when(complete(bare, "validation passed"))
      .thenEvents([result(bare, "validation passed"), new ThreadDone({ summary: "validation passed" })])
  })

  it.effect("an accepted done with a JSON result and no summary -> the result as JSON", () => {
    const bare = call("c-done", "done", { summary: 42 })
    return spec
      .given([prompted, turned(bare)])
      .when(complete(bare, { checks: 3 }))
      .thenEvents([result(bare, { checks: 3 }), new ThreadDone({ summary: '{"checks":3}' })])
  })

  it.effect("a rejected done -> ToolCompleted only; the model gets the validator's message (Agent)", () =>
    spec
      .given([prompted, turned(done), started(done)])
      .when(complete(done, "tests failed: 2 of 5", true))
      .thenEvents([result(done, "tests failed: 2 of 5", true)])
      .pipe(
        check((s) => {
          expect(s.status).toBe("Agent")
          expect(history(s).at(-1)).toEqual({
            role: "tool",
            callId: "c-done",
            name: "done",
            result: "tests failed: 2 of 5",
            isError: true
          })
        })
      )
  )

  it.effect("a rejected done on the last step -> ToolCompleted + ThreadFailed (max steps)", () =>
    spec
      .given([prompted, ...lsStep, ...lsStep, turned(done)])
      .when(complete(done, "tests failed", true))
      .thenEvents([result(done, "tests failed", true), new ThreadFailed({ reason: maxStepsReason(3) })])
  )

  it.effect("an accepted done on the last step -> ThreadDone, not Failed", () =>
    spec
      .given([prompted, ...lsStep, ...lsStep, turned(done)])
      .when(complete(done, "ok"))
      .thenEvents([result(done, "ok"), new ThreadDone({ summary: "Added a README" })])
  )

  it.effect(
    "done accepted before the rest of its batch -> the thread ends when the last result arrives",
    () =>
      Effect.gen(function* () {
        const base = [prompted, turned(write, done)]
        yield* spec
          .given(base)
          .when(complete(done, "ok"))
          .thenEvents([result(done, "ok")])
          .pipe(check((s) => expect(s.status).toBe("Tools")))
        yield* spec
          .given([...base, result(done, "ok")])
          .when(complete(write, "wrote 7 bytes"))
          .thenEvents([result(write, "wrote 7 bytes"), new ThreadDone({ summary: "Added a README" })])
      })
  )
})

describe("Thread: crash recovery", () => {
  const crashed = [prompted, turned(write, ls), started(write)]

  it("a started call without a result is in flight; unstarted calls are still to run", () => {
    const state = spec.given(crashed).state
    expect(callsInFlight(state).map((c) => c.call.id)).toEqual(["c-write"])
    expect(callsToRun(state).map((c) => c.call.id)).toEqual(["c-ls"])
  })

  it.effect("InterruptTool -> ToolCompleted with an 'interrupted' error result", () =>
    spec
      .given(crashed)
      .when(new InterruptTool({ callId: "c-write" }))
      .thenEvents([result(write, interruptedResult, true)])
      .pipe(
        check((s) => {
          expect(callsInFlight(s)).toEqual([])
          expect(interruptedResult).toMatch(/^interrupted/)
        })
      )
  )

  it.effect("InterruptTool of the last pending call hands the turn back to the model", () =>
    spec
      .given([...crashed, result(ls, "README.md")])
      .when(new InterruptTool({ callId: "c-write" }))
      .thenEvents([result(write, interruptedResult, true)])
      .pipe(check((s) => expect(s.status).toBe("Agent")))
  )

  it.effect("InterruptTool of a call that never started -> ToolCallNotStarted", () =>
    spec
      .given(crashed)
      .when(new InterruptTool({ callId: "c-ls" }))
      .thenError(ToolCallNotStarted, (e) => e.callId === "c-ls")
  )

  it.effect("InterruptTool of a completed call -> ToolCallAlreadyCompleted", () =>
    spec
      .given([...crashed, result(write, "ok")])
      .when(new InterruptTool({ callId: "c-write" }))
      .thenError(ToolCallAlreadyCompleted)
  )

  it.effect("restarting a call in flight -> ToolCallAlreadyStarted", () =>
    spec
      .given(crashed)
      .when(new StartTool({ callId: "c-write" }))
      .thenError(ToolCallAlreadyStarted)
  )
})

describe("Thread: UserWait", () => {
  const asking = [prompted, turned(ask, ls), started(ask)]
  const waiting = [...asking, new UserQuestionAsked({ callId: "c-ask", question: "Which license?" })]

  it.effect("AskUser -> UserQuestionAsked, the thread waits for the user", () =>
    spec
      .given(asking)
      .when(new AskUser({ callId: "c-ask", question: "Which license?" }))
      .thenEvents([new UserQuestionAsked({ callId: "c-ask", question: "Which license?" })])
      .pipe(
        check((s) => {
          expect(s.status).toBe("UserWait")
          expect(s.questions).toEqual([{ callId: "c-ask", question: "Which license?" }])
          expect(callsInFlight(s)).toEqual([])
        })
      )
  )

  it.effect("Answer with other calls pending -> UserAnswered, back to Tools", () =>
    spec
      .given(waiting)
      .when(new Answer({ text: "MIT" }))
      .thenEvents([new UserAnswered({ callId: "c-ask", answer: "MIT" })])
      .pipe(check((s) => expect(s.status).toBe("Tools")))
  )

  it.effect(
    "Answer for the last pending call -> UserAnswered; the answer is the ask_user result (Agent)",
    () =>
      spec
        .given([...waiting, started(ls), result(ls, "README.md")])
        .when(new Answer({ text: "MIT" }))
        .thenEvents([new UserAnswered({ callId: "c-ask", answer: "MIT" })])
        .pipe(
          check((s) => {
            expect(s.status).toBe("Agent")
            expect(s.questions).toEqual([])
            expect(history(s).at(-1)).toEqual({
              role: "tool",
              callId: "c-ask",
              name: "ask_user",
              result: "MIT",
              isError: false
            })
          })
        )
  )

  it.effect("other calls of the batch still run while the user thinks", () =>
    spec
      .given(waiting)
      .when(complete(ls, "README.md"))
      .thenEvents([result(ls, "README.md")])
      .pipe(check((s) => expect(s.status).toBe("UserWait")))
  )

  it.effect("two questions are answered oldest first", () =>
    Effect.gen(function* () {
      const both = [
        prompted,
        turned(ask, ask2),
        new UserQuestionAsked({ callId: "c-ask", question: "Which license?" }),
        new UserQuestionAsked({ callId: "c-ask2", question: "Which year?" })
      ]
      yield* spec
        .given(both)
        .when(new Answer({ text: "MIT" }))
        .thenEvents([new UserAnswered({ callId: "c-ask", answer: "MIT" })])
        .pipe(check((s) => expect(s.status).toBe("UserWait")))
      yield* spec
        .given([...both, new UserAnswered({ callId: "c-ask", answer: "MIT" })])
        .when(new Answer({ text: "2025" }))
        .thenEvents([new UserAnswered({ callId: "c-ask2", answer: "2025" })])
        .pipe(check((s) => expect(s.status).toBe("Agent")))
    })
  )

  for (const command of [
    complete(ask, "x"),
    new StartTool({ callId: "c-ask" }),
    new InterruptTool({ callId: "c-ask" }),
    new AskUser({ callId: "c-ask", question: "again?" })
  ]) {
    it.effect(`${command._tag} on a call waiting for the user -> ToolCallAwaitingUser`, () =>
      spec
        .given(waiting)
        .when(command)
        .thenError(ToolCallAwaitingUser, (e) => e.callId === "c-ask")
    )
  }

  it.effect("CompleteLlm while waiting for the user -> InvalidTransition", () =>
    spec
      .given(waiting)
      .when(turn())
      .thenError(InvalidTransition, (e) => e.state === "UserWait")
  )

  it.effect("Fail while waiting for the user -> ThreadFailed", () =>
    spec
      .given(waiting)
      .when(new Fail({ reason: "user cancelled" }))
      .thenEvents([new ThreadFailed({ reason: "user cancelled" })])
  )
})

describe("Thread: terminal states", () => {
  const doneThread = [
    prompted,
    turned(done),
    result(done, "ok"),
    new ThreadDone({ summary: "Added a README" })
  ]
  const failedThread = [prompted, new ThreadFailed({ reason: "boom" })]
  const commands = [
    new Prompt({ prompt: "again", maxSteps: 3 }),
    turn(),
    new StartTool({ callId: "c-done" }),
    complete(done, "ok"),
    new Answer({ text: "MIT" }),
    new Fail({ reason: "late" })
  ]

  for (const command of commands) {
    it.effect(`Done rejects ${command._tag} -> ThreadFinished`, () =>
      spec
        .given(doneThread)
        .when(command)
        .thenError(ThreadFinished, (e) => e.state === "Done" && e.command === command._tag)
    )
    it.effect(`Failed rejects ${command._tag} -> ThreadFinished`, () =>
      spec
        .given(failedThread)
        .when(command)
        .thenError(ThreadFinished, (e) => e.state === "Failed" && e.command === command._tag)
    )
  }

  it("a terminal state absorbs any later event", () => {
    const state = spec.given(failedThread).state
    expect(evolveThread(state, turned(ls))).toBe(state)
    expect(evolveThread(state, new ThreadDone({ summary: "x" }))).toBe(state)
  })
})

describe("Thread: folding", () => {
  const history = [
    prompted,
    turned(write, ask),
    started(write),
    new UserQuestionAsked({ callId: "c-ask", question: "Which license?" }),
    result(write, "wrote 7 bytes"),
    new UserAnswered({ callId: "c-ask", answer: "MIT" }),
    turned(),
    nudged,
    turned(done),
    started(done),
    result(done, "ok"),
    new ThreadDone({ summary: "Added a README" })
  ]

  it("fold over the history equals applying the events one by one", () => {
    let stepwise = threadHandler.initial
    for (const event of history) stepwise = threadHandler.apply(stepwise, event)
    const folded = Handler.fold(threadHandler, history)
    expect(folded).toEqual(stepwise)
    expect(folded).toMatchObject({ status: "Done", summary: "Added a README", steps: 3 })
    expect(Chunk.toReadonlyArray(folded.history).map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "tool",
      "assistant",
      "user",
      "assistant",
      "tool"
    ])
  })

  it.effect("replaying the commands through decide rebuilds the same state as the fold", () =>
    Effect.gen(function* () {
      const commands = [
        new Prompt({ prompt: "Add a README", maxSteps: 3, system: "You are careful." }),
        turn(write, ask),
        new StartTool({ callId: "c-write" }),
        new AskUser({ callId: "c-ask", question: "Which license?" }),
        complete(write, "wrote 7 bytes"),
        new Answer({ text: "MIT" }),
        turn(),
        turn(done),
        new StartTool({ callId: "c-done" }),
        complete(done, "ok")
      ]
      let state = threadHandler.initial
      const events: Array<ThreadEvent> = []
      for (const command of commands) {
        const decided = yield* Handler.decide(threadHandler, state, command)
        events.push(...decided.events)
        state = decided.state
      }
      expect(events).toEqual(history)
      expect(state).toEqual(Handler.fold(threadHandler, events))
    })
  )

  it("applying an event leaves the previous state untouched (states are persistent)", () => {
    const before = spec.given([prompted, ...lsStep]).state
    const after = threadHandler.apply(before, turned(ls))
    expect(Chunk.size(before.history)).toBe(3)
    expect(Chunk.size(after.history)).toBe(4)
    expect(before.status).toBe("Agent")
  })

  it("a long thread folds with one history entry per message", () => {
    const steps = 500
    const events: Array<ThreadEvent> = [new Prompted({ prompt: "long", maxSteps: steps + 1 })]
    for (let i = 0; i < steps; i++) {
      const c = call(`c-${i}`, "bash", { command: `echo ${i}` })
      events.push(turned(c), started(c), result(c, `${i}`))
    }
    const state = Handler.fold(threadHandler, events)
    expect(state.status).toBe("Agent")
    expect(state.steps).toBe(steps)
    expect(Chunk.size(state.history)).toBe(1 + 2 * steps)
    expect(state.usage).toEqual({ inputTokens: 100 * steps, outputTokens: 20 * steps })
  })
})

describe("Thread: schemas", () => {
  const events: ReadonlyArray<ThreadEvent> = [
    prompted,
    new Prompted({ prompt: "no system", maxSteps: 1 }),
    turned(write, call("c-odd", "frobnicate", "not even an object")),
    turned(),
    nudged,
    started(write),
    result(write, { nested: [1, "two", null, true, { deep: 1.5 }] }, true),
    new UserQuestionAsked({ callId: "c-ask", question: "Which license?" }),
    new UserAnswered({ callId: "c-ask", answer: "MIT" }),
    new ThreadDone({ summary: "Added a README" }),
    new ThreadFailed({ reason: "boom" })
  ]

  for (const event of events) {
    it.effect(`${event._tag} survives encode -> JSON -> decode`, () =>
      Effect.gen(function* () {
        const encoded = yield* Schema.encode(ThreadEvent)(event)
        const decoded = yield* Schema.decodeUnknown(ThreadEvent)(JSON.parse(JSON.stringify(encoded)))
        expect(decoded).toEqual(event)
        expect(decoded).toBeInstanceOf(event.constructor)
      })
    )
  }

  it.effect("every command survives encode -> JSON -> decode", () =>
    Effect.gen(function* () {
      const commands: ReadonlyArray<ThreadCommand> = [
        new Prompt({ prompt: "x", maxSteps: 2, system: "s" }),
        turn(write),
        new StartTool({ callId: "a" }),
        complete(write, { ok: true }),
        new InterruptTool({ callId: "a" }),
        new AskUser({ callId: "a", question: "?" }),
        new Answer({ text: "yes" }),
        new Fail({ reason: "no" })
      ]
      for (const command of commands) {
        const encoded = yield* Schema.encode(ThreadCommand)(command)
        const decoded = yield* Schema.decodeUnknown(ThreadCommand)(JSON.parse(JSON.stringify(encoded)))
        expect(decoded).toEqual(command)
      }
    })
  )

  it("decoding rejects stored data that does not match", () => {
    const decode = Schema.decodeUnknownEither(ThreadEvent)
    expect(Either.isLeft(decode({ _tag: "Prompted", prompt: "x", maxSteps: 0 }))).toBe(true)
    expect(Either.isLeft(decode({ _tag: "Nope" }))).toBe(true)
    expect(
      Either.isLeft(
        decode({ _tag: "ToolCompleted", callId: "a", name: "ls", result: new Date(0), isError: false })
      )
    ).toBe(true)
  })

  it("tool params and results must be JSON values", () => {
    expect(isJsonValue({ a: [1, "b", null, { c: false }] })).toBe(true)
    expect(isJsonValue("plain string")).toBe(true)
    const holey: Array<number> = [1]
    holey[2] = 3
    for (const bad of [undefined, Number.NaN, Infinity, new Date(0), () => 1, { a: undefined }, holey, 1n]) {
      expect(isJsonValue(bad)).toBe(false)
    }
    const cycle: Record<string, unknown> = {}
    cycle["self"] = cycle
    expect(isJsonValue(cycle)).toBe(false)
    const shared = { x: 1 }
    expect(isJsonValue({ a: shared, b: shared })).toBe(true)
    expect(() => result(write, new Date(0))).toThrow()
  })
})

describe("Thread: service", () => {
  it.effect("ThreadHandler.layer provides threadHandler", () =>
    Effect.gen(function* () {
      const handler = yield* ThreadHandler
      expect(handler).toBe(threadHandler)
      const decided = yield* Handler.decide(
        handler,
        handler.initial,
        new Prompt({ prompt: "hi", maxSteps: 1 })
      )
      expect(decided.state.status).toBe("Agent")
    }).pipe(Effect.provide(ThreadHandler.layer))
  )
})
