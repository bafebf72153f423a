import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Planning from "../../src/coordinator/Planning.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { EventStore } from "../../src/store/index.js"
import type { StoredEvent } from "../../src/store/StoredEvent.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import * as Validator from "../../src/tools/Validator.js"
import { promptText, toolResults } from "../support/agentScript.js"
import { backends } from "../support/stores.js"

type Reply = ScriptedLanguageModel.Reply
type Request = ScriptedLanguageModel.Request

/** A model that plans with `plan` and works each task: one tool call, then done. */
const agentModel =
  (plan: string, tool: (taskId: string, request: Request) => Reply, failing: ReadonlyArray<string> = []) =>
  (request: Request): Reply => {
    if (request.tools.length === 0) return { text: plan, usage: { inputTokens: 50, outputTokens: 40 } }
    const taskId = /Your task \(([^,]+),/.exec(promptText(request.prompt))?.[1] ?? "?"
    if (failing.includes(taskId)) return { text: "I refuse to call tools." }
    const seen = toolResults(request.prompt)
    if (seen.length === 0) return tool(taskId, request)
    return {
      toolCalls: [{ name: "done", params: { summary: `result of ${taskId}` } }],
      usage: { inputTokens: 10, outputTokens: 5 }
    }
  }

const layerFor = (
  turn: (request: Request) => Reply,
  store: Layer.Layer<EventStore, unknown>,
  turns = 100
) => {
  const dir = mkdtempSync(join(tmpdir(), "dabgent-plan-"))
  return Layer.mergeAll(
    ScriptedLanguageModel.layer(Array.from({ length: turns }, () => turn)),
    Validator.layerAcceptAll
  ).pipe(Layer.provideMerge(Sandbox.layerLocal(dir)), Layer.provideMerge(store))
}

const sessionEvents = (sessionId: string) =>
  Effect.flatMap(EventStore, (store) =>
    Stream.runCollect(store.read({ streamId: "dabgent", aggregatePrefix: sessionId })).pipe(
      Effect.map((events) => Chunk.toReadonlyArray(events))
    )
  )

const at = (events: ReadonlyArray<StoredEvent>, aggregateId: string, type: string) =>
  events.find((e) => e.aggregateId === aggregateId && e.type === type)?.sequence ?? -1

const fourTasks = JSON.stringify({
  tasks: [
    { id: "a", description: "make part a", kind: "tool_call", dependencies: [] },
    { id: "b", description: "make part b", kind: "tool_call", dependencies: [] },
    { id: "c", description: "combine a and b", kind: "processing", dependencies: ["a", "b"] },
    { id: "d", description: "report", kind: "processing", dependencies: ["c"] }
  ]
})

const slowTool = (taskId: string): Reply => ({
  toolCalls: [{ name: "bash", params: { command: `sleep 0.3; echo ${taskId} > ${taskId}.txt` } }],
  usage: { inputTokens: 20, outputTokens: 10 }
})

for (const backend of backends()) {
  describe(`planning sessions (${backend.name})`, () => {
    it.live(`[${backend.name}] a 4-task plan runs in dependency order; independent tasks overlap`, () =>
      Effect.gen(function* () {
        const summary = yield* Planning.planAndExecute("build a, b, combine, report", {
          maxParallel: 4,
          maxStepsPerTask: 5
        })
        expect(summary.status).toBe("completed")
        expect(summary.outcome).toBe("all_done")
        expect(summary.tasks.map((t) => [t.id, t.status])).toEqual([
          ["a", "completed"],
          ["b", "completed"],
          ["c", "completed"],
          ["d", "completed"]
        ])
        expect(summary.output).toBe("result of d")
        expect(summary.tasks.find((t) => t.id === "a")?.usage).toEqual({ inputTokens: 30, outputTokens: 15 })
        expect(summary.usage.inputTokens).toBeGreaterThan(0)

        const events = yield* sessionEvents(summary.sessionId)
        const id = summary.sessionId
        const started = (task: string) => at(events, `${id}/task-${task}`, "thread.Prompted")
        const finished = (task: string) => at(events, `${id}/task-${task}`, "thread.ThreadDone")
        // a and b overlap: each started before the other finished.
        expect(started("b")).toBeLessThan(finished("a"))
        expect(started("a")).toBeLessThan(finished("b"))
        // c only after both, d only after c.
        expect(started("c")).toBeGreaterThan(Math.max(finished("a"), finished("b")))
        expect(started("d")).toBeGreaterThan(finished("c"))
        expect(events.at(-1)?.type).toBe("planner.PlanningCompleted")
      }).pipe(Effect.provide(layerFor(agentModel(fourTasks, slowTool), backend.layer())))
    )
  })
}

describe("planning sessions", () => {
  it.live("a failing task skips its dependents and the session ends some_failed", () =>
    Effect.gen(function* () {
      const summary = yield* Planning.planAndExecute("a then c, and b", { maxStepsPerTask: 2 })
      expect(summary.outcome).toBe("some_failed")
      expect(summary.tasks.map((t) => [t.id, t.status])).toEqual([
        ["a", "failed"],
        ["b", "completed"],
        ["c", "skipped"],
        ["d", "skipped"]
      ])
    }).pipe(Effect.provide(layerFor(agentModel(fourTasks, slowTool, ["a"]), EventStore.layerMemory)))
  )

  it.live("malformed planner output falls back to one processing task with a recorded warning", () =>
    Effect.gen(function* () {
      const summary = yield* Planning.planAndExecute("just do the thing", { maxStepsPerTask: 5 })
      expect(summary.outcome).toBe("all_done")
      expect(summary.tasks.map((t) => [t.kind, t.description])).toEqual([["processing", "just do the thing"]])
      const events = yield* sessionEvents(summary.sessionId)
      const planned = events.find((e) => e.type === "planner.TasksPlanned")
      expect(JSON.stringify(planned?.metadata)).toContain("fallback")
    }).pipe(
      Effect.provide(layerFor(agentModel("I cannot produce JSON, sorry.", slowTool), EventStore.layerMemory))
    )
  )

  const withQuestion = JSON.stringify({
    tasks: [
      { id: "q", description: "Which language should the tool be written in?", kind: "clarification" },
      { id: "w", description: "write the tool", kind: "tool_call", dependencies: ["q"] }
    ]
  })
  const writeInAnswer = (_taskId: string, request: Request): Reply => {
    const text = promptText(request.prompt)
    return {
      toolCalls: [
        { name: "write_file", params: { path: "lang.txt", content: /Rust/.test(text) ? "Rust" : "unknown" } }
      ]
    }
  }

  it.live("a clarification task asks the user; the answer reaches the dependent task", () =>
    Effect.gen(function* () {
      const asked: Array<string> = []
      const summary = yield* Planning.planAndExecute("write a tool", {
        ask: (question) => Effect.sync(() => (asked.push(question.question), Option.some("Rust")))
      })
      expect(asked).toEqual(["Which language should the tool be written in?"])
      expect(summary.outcome).toBe("all_done")
      expect(summary.tasks.find((t) => t.id === "q")?.result).toBe("Rust")
    }).pipe(Effect.provide(layerFor(agentModel(withQuestion, writeInAnswer), EventStore.layerMemory)))
  )

  it.live("without anyone to answer, the session waits; answering later and resuming finishes it", () =>
    Effect.gen(function* () {
      const first = yield* Planning.planAndExecute("write a tool")
      expect(first.status).toBe("waiting")
      expect(first.question?.question).toBe("Which language should the tool be written in?")
      const answered = yield* Planning.answer(first.sessionId, "Rust")
      expect(answered).toBe(true)
      const second = yield* Planning.runPlanSession(first.sessionId)
      expect(second.status).toBe("completed")
      expect(second.outcome).toBe("all_done")
    }).pipe(Effect.provide(layerFor(agentModel(withQuestion, writeInAnswer), EventStore.layerMemory)))
  )

  const questionBesideWork = JSON.stringify({
    tasks: [
      { id: "q", description: "Which language should the tool be written in?", kind: "clarification" },
      { id: "t", description: "prepare the folder", kind: "tool_call" },
      { id: "w", description: "write the tool", kind: "tool_call", dependencies: ["q", "t"] }
    ]
  })

  it.live("an unanswered question does not hold back a task running beside it; then the session waits", () =>
    Effect.gen(function* () {
      const first = yield* Planning.planAndExecute("write a tool", { maxParallel: 2 })
      expect(first.status).toBe("waiting")
      expect(first.question?.question).toBe("Which language should the tool be written in?")
      expect(first.tasks.map((t) => [t.id, t.status])).toEqual([
        ["q", "needs_clarification"],
        ["t", "completed"],
        ["w", "planned"]
      ])
      expect(yield* Planning.answer(first.sessionId, "Rust")).toBe(true)
      const second = yield* Planning.runPlanSession(first.sessionId)
      expect(second.outcome).toBe("all_done")
    }).pipe(
      Effect.provide(
        layerFor(
          agentModel(questionBesideWork, (taskId, request) =>
            taskId === "t" ? slowTool(taskId) : writeInAnswer(taskId, request)
          ),
          EventStore.layerMemory
        )
      ),
      Effect.timeout("30 seconds")
    )
  )

  it.live("plan only records the task graph and runs nothing", () =>
    Effect.gen(function* () {
      const summary = yield* Planning.planOnly("build a, b, combine, report")
      expect(summary.status).toBe("planned")
      expect(summary.tasks.map((t) => t.id)).toEqual(["a", "b", "c", "d"])
      const events = yield* sessionEvents(summary.sessionId)
      expect(events.filter((e) => e.type.startsWith("thread."))).toEqual([])
    }).pipe(Effect.provide(layerFor(agentModel(fourTasks, slowTool), EventStore.layerMemory)))
  )

  it.live("a damaged event is fatal: the run fails with DecodeError and the log records why", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const sessionId = yield* Planning.startPlanning("build a, b, combine, report")
      yield* store.append({
        streamId: "dabgent",
        aggregateId: `${sessionId}/task-a`,
        events: [{ type: "thread.Prompted", data: { prompt: 42 } }]
      })
      const error = yield* Effect.flip(Planning.runPlanSession(sessionId))
      expect(error).toMatchObject({ _tag: "DecodeError", type: "thread.Prompted" })
      const events = yield* sessionEvents(sessionId)
      const completed = events.find((e) => e.type === "planner.PlanningCompleted")
      expect(completed?.data).toMatchObject({ outcome: "cancelled" })
      expect(JSON.stringify(completed?.data)).toContain("fatal")
    }).pipe(Effect.provide(layerFor(agentModel(fourTasks, slowTool), EventStore.layerMemory)))
  )
})
