import * as AiError from "@effect/ai/AiError"
import type * as Prompt from "@effect/ai/Prompt"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { fold } from "../../src/Handler.js"
import {
  Attachment,
  Compaction,
  ContextCompacted,
  LlmPlanner,
  plannerHandler,
  PlanningStarted,
  TaskDispatched,
  TasksPlanned,
  TaskSpec,
  TaskStatusUpdated
} from "../../src/planner/index.js"
import * as ScriptedLanguageModel from "../../src/testing/ScriptedLanguageModel.js"

/** The planner over a scripted model, with the script's recording. */
const withScript = <A, E>(
  turns: ReadonlyArray<ScriptedLanguageModel.Turn>,
  body: (
    planner: LlmPlanner.LlmPlanner["Type"],
    recording: ScriptedLanguageModel.Recording
  ) => Effect.Effect<A, E>
): Effect.Effect<A, E> =>
  Effect.gen(function* () {
    const planner = yield* LlmPlanner.LlmPlanner
    const recording = yield* ScriptedLanguageModel.ScriptedLanguageModel
    return yield* body(planner, recording)
  }).pipe(Effect.provide(LlmPlanner.layer.pipe(Layer.provideMerge(ScriptedLanguageModel.layer(turns)))))

/** Every message of a prompt as `role: text`. */
const messages = (prompt: Prompt.Prompt): ReadonlyArray<string> =>
  prompt.content.map((message) => {
    const text =
      typeof message.content === "string"
        ? message.content
        : message.content.map((part) => (part.type === "text" ? part.text : `[${part.type}]`)).join("")
    return `${message.role}: ${text}`
  })

const plan = (tasks: ReadonlyArray<{ id: string; kind?: string; dependencies?: ReadonlyArray<string> }>) =>
  JSON.stringify({
    tasks: tasks.map((task) => ({
      id: task.id,
      description: `do ${task.id}`,
      kind: task.kind ?? "tool_call",
      dependencies: task.dependencies ?? []
    }))
  })

const cyclic = plan([
  { id: "a", dependencies: ["b"] },
  { id: "b", dependencies: ["a"] }
])

const input = "Add a login page to the app"

describe("LlmPlanner.plan", () => {
  it.effect("returns the model's JSON plan with its usage in one request", () =>
    withScript(
      [
        {
          text: plan([{ id: "1" }, { id: "2", kind: "processing", dependencies: ["1"] }]),
          usage: { inputTokens: 120, outputTokens: 30 }
        }
      ],
      (planner, recording) =>
        Effect.gen(function* () {
          const result = yield* planner.plan(input, [])
          expect(result.format).toBe("json")
          expect(result.warnings).toEqual([])
          expect(result.usage).toEqual({ inputTokens: 120, outputTokens: 30 })
          expect(result.tasks).toEqual([
            new TaskSpec({ id: "1", description: "do 1", kind: "tool_call", dependencies: [] }),
            new TaskSpec({ id: "2", description: "do 2", kind: "processing", dependencies: ["1"] })
          ])
          const [request] = yield* recording.requests
          expect(request?.tools).toEqual([])
          const sent = request === undefined ? [] : messages(request.prompt)
          expect(sent).toHaveLength(2)
          expect(sent[0]).toMatch(/^system: .*tool_call.*processing.*clarification.*\{"tasks": \[/s)
          expect(sent[1]).toContain(`<request>\n${input}\n</request>`)
        })
    )
  )

  it.effect("accepts the original's XML form", () =>
    withScript(
      [
        {
          text: "<tasks><task><id>1</id><description>Ask which provider</description><kind>clarification</kind><dependencies/></task></tasks>"
        }
      ],
      (planner) =>
        Effect.gen(function* () {
          const result = yield* planner.plan(input, [])
          expect(result.format).toBe("xml")
          expect(result.tasks.map((task) => [task.id, task.kind])).toEqual([["1", "clarification"]])
        })
    )
  )

  it.effect("puts the attachments and the context summary into the prompt", () =>
    withScript([{ text: plan([{ id: "1" }]) }], (planner, recording) =>
      Effect.gen(function* () {
        yield* planner.plan(
          "Fix src/app.ts",
          [
            new Attachment({ source: "src/app.ts", content: "export const app = 1" }),
            new Attachment({ source: "https://example.com/x" })
          ],
          "Task 1 created the database schema."
        )
        const [request] = yield* recording.requests
        const user = (request === undefined ? [] : messages(request.prompt))[1] ?? ""
        expect(user).toContain('<attachment source="src/app.ts">\nexport const app = 1\n</attachment>')
        expect(user).toContain('<attachment source="https://example.com/x" read="false"/>')
        expect(user).toContain("<context>\nTask 1 created the database schema.\n</context>")
        expect(user.indexOf("<context>")).toBeLessThan(user.indexOf("<request>"))
      })
    )
  )

  it.effect("re-asks once with the validation error and uses the corrected plan, summing usage", () =>
    withScript(
      [
        { text: cyclic, usage: { inputTokens: 100, outputTokens: 20 } },
        {
          text: "```json\n" + plan([{ id: "a" }, { id: "b", dependencies: ["a"] }]) + "\n```",
          usage: { inputTokens: 150, outputTokens: 25 }
        }
      ],
      (planner, recording) =>
        Effect.gen(function* () {
          const result = yield* planner.plan(input, [])
          expect(result.format).toBe("json-fenced")
          expect(result.tasks.map((task) => [task.id, task.dependencies])).toEqual([
            ["a", []],
            ["b", ["a"]]
          ])
          expect(result.usage).toEqual({ inputTokens: 250, outputTokens: 45 })
          expect(result.warnings).toEqual([
            expect.stringMatching(/^plan rejected: .*cycle.*"a" -> "b" -> "a"/)
          ])
          const requests = yield* recording.requests
          expect(requests).toHaveLength(2)
          const retry = requests[1] === undefined ? [] : messages(requests[1].prompt)
          expect(retry.map((message) => message.split(":")[0])).toEqual([
            "system",
            "user",
            "assistant",
            "user"
          ])
          expect(retry[2]).toBe(`assistant: ${cyclic}`)
          expect(retry[3]).toContain("dependency cycle")
        })
    )
  )

  it.effect("falls back to one processing task with the whole input when the retry is invalid too", () =>
    withScript(
      [
        { text: cyclic, usage: { inputTokens: 100, outputTokens: 20 } },
        { text: plan([{ id: "a", dependencies: ["zzz"] }]), usage: { inputTokens: 150, outputTokens: 10 } }
      ],
      (planner, recording) =>
        Effect.gen(function* () {
          const result = yield* planner.plan(input, [])
          expect(result.format).toBe("fallback")
          expect(result.tasks).toEqual([
            new TaskSpec({ id: "1", description: input, kind: "processing", dependencies: [] })
          ])
          expect(result.usage).toEqual({ inputTokens: 250, outputTokens: 30 })
          expect(result.warnings).toEqual([
            expect.stringContaining("plan rejected: the plan has a dependency cycle"),
            expect.stringMatching(/corrected plan was rejected too .*unknown task.*"zzz"/)
          ])
          expect(yield* recording.remaining).toBe(0)
        })
    )
  )

  it.effect("re-asks on garbage and falls back after a second garbage answer", () =>
    withScript([{ text: "I would rather not." }, { text: "" }], (planner, recording) =>
      Effect.gen(function* () {
        const result = yield* planner.plan(input, [])
        expect(result.format).toBe("fallback")
        expect(result.tasks.map((task) => task.description)).toEqual([input])
        expect(result.warnings[0]).toContain("plan rejected: no plan found")
        expect(result.warnings.at(-1)).toContain("corrected plan was rejected too")
        const requests = yield* recording.requests
        expect(requests).toHaveLength(2)
      })
    )
  )

  it.effect("fails with PlannerModelError when the model cannot be asked", () =>
    withScript(
      [
        () =>
          Effect.fail(
            new AiError.UnknownError({ module: "test", method: "generateText", description: "boom" })
          )
      ],
      (planner) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(planner.plan(input, []))
          expect(error).toBeInstanceOf(LlmPlanner.PlannerModelError)
          expect(error.operation).toBe("plan")
          expect(error.reason).toContain("boom")
        })
    )
  )

  it.effect("falls back with a warning when the re-ask fails, keeping the first usage", () =>
    withScript(
      [
        { text: cyclic, usage: { inputTokens: 7, outputTokens: 3 } },
        () =>
          Effect.fail(
            new AiError.UnknownError({ module: "test", method: "generateText", description: "overloaded" })
          )
      ],
      (planner) =>
        Effect.gen(function* () {
          const result = yield* planner.plan(input, [])
          expect(result.format).toBe("fallback")
          expect(result.usage).toEqual({ inputTokens: 7, outputTokens: 3 })
          expect(result.warnings.at(-1)).toMatch(/re-asking failed .*overloaded/)
        })
    )
  )

  it.effect("warns when the answer was cut off at the output limit", () =>
    withScript([{ text: plan([{ id: "1" }]), finishReason: "length" }], (planner) =>
      Effect.gen(function* () {
        const result = yield* planner.plan(input, [])
        expect(result.format).toBe("json")
        expect(result.warnings).toEqual(["the first answer was cut off at the model's output limit"])
      })
    )
  )
})

describe("LlmPlanner.summarize", () => {
  const long = "The agent created src/db.ts and ran the migrations. ".repeat(40)

  it.effect("returns text that already fits without asking the model", () =>
    withScript([], (planner, recording) =>
      Effect.gen(function* () {
        expect(yield* planner.summarize("short", 10)).toBe("short")
        expect(yield* recording.requests).toEqual([])
      })
    )
  )

  it.effect("asks the model with the budget and returns its summary", () =>
    withScript([{ text: "  Created src/db.ts; migrations ran.  " }], (planner, recording) =>
      Effect.gen(function* () {
        expect(yield* planner.summarize(long, 50)).toBe("Created src/db.ts; migrations ran.")
        const [request] = yield* recording.requests
        const sent = request === undefined ? [] : messages(request.prompt)
        expect(sent[0]).toMatch(/^system: You compact/)
        expect(sent[1]).toContain("at most 50 tokens")
        expect(sent[1]).toContain(long)
      })
    )
  )

  it.effect("truncates a summary that is still over budget, as a last resort", () =>
    withScript([{ text: "word ".repeat(500) }], (planner) =>
      Effect.gen(function* () {
        const summary = yield* planner.summarize(long, 40)
        expect(Compaction.estimateTokens(summary)).toBeLessThanOrEqual(40)
        expect(summary).toMatch(/\[\.\.\. truncated to fit 40 tokens\]$/)
      })
    )
  )

  it.effect("keeps what fits of the original when the model answers nothing", () =>
    withScript([{ text: "   " }], (planner) =>
      Effect.gen(function* () {
        const summary = yield* planner.summarize(long, 30)
        expect(summary.startsWith("The agent created src/db.ts")).toBe(true)
        expect(Compaction.estimateTokens(summary)).toBeLessThanOrEqual(30)
      })
    )
  )

  it.effect("fails with PlannerModelError naming the summarize request", () =>
    withScript(
      [
        () =>
          Effect.fail(
            new AiError.UnknownError({ module: "test", method: "generateText", description: "down" })
          )
      ],
      (planner) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(planner.summarize(long, 10))
          expect(error).toMatchObject({ _tag: "PlannerModelError", operation: "summarize" })
        })
    )
  )

  it("truncateToBudget never exceeds the budget, even when the marker does not fit", () => {
    expect(LlmPlanner.truncateToBudget("abcdefghij", 1)).toBe("abcd")
    expect(LlmPlanner.truncateToBudget("abc", 1)).toBe("abc")
    expect(LlmPlanner.truncateToBudget("abc", 0)).toBe("")
  })
})

describe("Compaction", () => {
  it("estimates tokens as characters / 4, rounded up, and compares a total with the budget", () => {
    expect(Compaction.estimateTokens("")).toBe(0)
    expect(Compaction.estimateTokens("abcde")).toBe(2)
    expect(Compaction.needsCompaction(["a".repeat(40), "b".repeat(40)], 20)).toBe(false)
    expect(Compaction.needsCompaction(["a".repeat(40), "b".repeat(41)], 20)).toBe(true)
  })

  it("gives the planner context to compact: summary and uncompacted finished results", () => {
    const state = fold(plannerHandler, [
      new PlanningStarted({ input, attachments: [], maxParallel: 4 }),
      new TasksPlanned({
        tasks: ["1", "2", "3"].map((id) => new TaskSpec({ id, description: `do ${id}`, kind: "processing" }))
      }),
      ...["1", "2", "3"].map(
        (id) => new TaskDispatched({ taskId: id, kind: "processing", description: `do ${id}` })
      ),
      new TaskStatusUpdated({ taskId: "1", status: "completed", result: "one done" }),
      new ContextCompacted({ summary: "Task 1 finished.", taskIds: ["1"] }),
      new TaskStatusUpdated({ taskId: "2", status: "failed", result: "two broke" })
    ])
    const context = Compaction.plannerContext(state)
    expect(context.taskIds).toEqual(["2"])
    expect(context.text).toBe(
      "Summary so far:\nTask 1 finished.\n\nTask 2 (failed): do 2\nResult:\ntwo broke"
    )
  })

  describe("selectOlderTurns", () => {
    const turns = (...sizes: ReadonlyArray<number | [number]>): ReadonlyArray<Compaction.SizedMessage> =>
      // A plain number starts a group; [n] continues the previous group (a tool result).
      sizes.map((size) =>
        typeof size === "number" ? { tokens: size, groupStart: true } : { tokens: size[0], groupStart: false }
      )

    it("summarizes nothing when everything fits, or when there is nothing", () => {
      expect(Compaction.selectOlderTurns(turns(10, 10, 10), 30, 1)).toBe(0)
      expect(Compaction.selectOlderTurns([], 0, 0)).toBe(0)
    })

    it("picks the fewest oldest messages that make the rest fit", () => {
      expect(Compaction.selectOlderTurns(turns(10, 10, 10, 10), 25, 1)).toBe(2)
      expect(Compaction.selectOlderTurns(turns(50, 10, 10, 10), 30, 1)).toBe(1)
    })

    it("never splits an assistant turn from its tool results", () => {
      // Groups: [0], [1, 2, 3], [4]. Cutting after message 1 would orphan its tool results.
      expect(Compaction.selectOlderTurns(turns(10, 10, [10], [10], 10), 35, 1)).toBe(4)
    })

    it("keeps the last keepRecent groups even when the rest still does not fit", () => {
      expect(Compaction.selectOlderTurns(turns(10, 10, 10, 100), 50, 1)).toBe(3)
      expect(Compaction.selectOlderTurns(turns(10, 10, 100, 100), 50, 2)).toBe(2)
      expect(Compaction.selectOlderTurns(turns(10, 10, [10], 10), 5, 2)).toBe(1)
    })

    it("summarizes nothing when keepRecent covers every group", () => {
      expect(Compaction.selectOlderTurns(turns(100, 100), 10, 2)).toBe(0)
      expect(Compaction.selectOlderTurns(turns(100, [100]), 10, 1)).toBe(0)
    })

    it("may summarize everything when keepRecent is 0", () => {
      expect(Compaction.selectOlderTurns(turns(100, 100), 10, 0)).toBe(2)
      expect(Compaction.selectOlderTurns(turns(100, 5), 10, 0)).toBe(1)
    })

    it("treats the first message as a group start even when it is not flagged", () => {
      expect(Compaction.selectOlderTurns(turns([10], [10], 10), 15, 1)).toBe(2)
    })
  })
})
