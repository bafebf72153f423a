import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DabgentAgent, runSession, startThread } from "../../src/DabgentAgent.js"
import { ThreadEvents } from "../../src/events/ThreadEvents.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { EventStore } from "../../src/store/index.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import { LlmCompleted, ToolStarted } from "../../src/thread/ThreadEvent.js"
import * as Validator from "../../src/tools/Validator.js"
import { threadLog } from "../../src/workers/ThreadSource.js"
import { toolResults, writeRunDone } from "../support/agentScript.js"
import { backends } from "../support/stores.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "dabgent-work-"))

const agentLayer = (options: {
  readonly dir: string
  readonly turns: ReadonlyArray<ScriptedLanguageModel.Turn>
  readonly store: Layer.Layer<EventStore, unknown>
  readonly validate?: string
}) => {
  const sandbox = Sandbox.layerLocal(options.dir)
  return DabgentAgent.layer.pipe(
    Layer.provideMerge(Validator.layer(options.validate).pipe(Layer.provideMerge(sandbox))),
    Layer.provideMerge(ScriptedLanguageModel.layer(options.turns)),
    Layer.provideMerge(options.store)
  )
}

const eventTags = (sessionId: string) =>
  Effect.flatMap(EventStore, (store) =>
    Stream.runCollect(threadLog(store).read({ streamId: "dabgent", aggregateId: sessionId })).pipe(
      Effect.map((events) => Chunk.toReadonlyArray(events).map((e) => e.event._tag))
    )
  )

for (const backend of backends()) {
  describe(`a thread run end to end (${backend.name})`, () => {
    it.live(`[${backend.name}] writes a file, runs it with bash, calls done: Done with the summary`, () => {
      const dir = tempDir()
      return Effect.gen(function* () {
        const agent = yield* DabgentAgent
        const summary = yield* agent.simpleExecute("write and run hello.sh", { maxSteps: 10 })
        expect(summary.status).toBe("Done")
        expect(summary.message).toContain("hello from the agent")
        expect(summary.steps).toBe(3)
        expect(summary.usage).toEqual({ inputTokens: 450, outputTokens: 45 })
        expect(readFileSync(join(dir, "hello.sh"), "utf8")).toBe("echo hello from the agent\n")
        expect(yield* eventTags(summary.sessionId)).toEqual([
          "Prompted",
          "LlmCompleted",
          "ToolStarted",
          "ToolCompleted",
          "LlmCompleted",
          "ToolStarted",
          "ToolCompleted",
          "LlmCompleted",
          "ToolStarted",
          "ToolCompleted",
          "ThreadDone"
        ])
      }).pipe(
        Effect.provide(
          agentLayer({ dir, store: backend.layer(), turns: [writeRunDone(), writeRunDone(), writeRunDone()] })
        )
      )
    })
  })
}

describe("thread workers", () => {
  it.live("a failing validator sends its output back to the model, which fixes the work", () => {
    const dir = tempDir()
    let doneCalls = 0
    return Effect.gen(function* () {
      const agent = yield* DabgentAgent
      const summary = yield* agent.simpleExecute("make ok.txt say yes", { maxSteps: 10 })
      expect(summary.status).toBe("Done")
      expect(doneCalls).toBe(2)
      expect(readFileSync(join(dir, "ok.txt"), "utf8")).toBe("yes")
    }).pipe(
      Effect.provide(
        agentLayer({
          dir,
          store: EventStore.layerMemory,
          validate: "grep -qx yes ok.txt || { echo 'ok.txt must contain exactly: yes'; exit 1; }",
          turns: [
            () => ((doneCalls += 1), { toolCalls: [{ name: "done", params: { summary: "nothing to do" } }] }),
            (request) => {
              const last = toolResults(request.prompt).at(-1)
              expect(last?.isFailure).toBe(true)
              expect(String(last?.result)).toContain("ok.txt must contain exactly: yes")
              return { toolCalls: [{ name: "write_file", params: { path: "ok.txt", content: "yes" } }] }
            },
            () => ((doneCalls += 1), { toolCalls: [{ name: "done", params: { summary: "wrote ok.txt" } }] })
          ]
        })
      )
    )
  })

  it.live("bad tool calls become error results for the model, and the thread goes on", () => {
    const dir = tempDir()
    return Effect.gen(function* () {
      const agent = yield* DabgentAgent
      const summary = yield* agent.simpleExecute("try things", { maxSteps: 10 })
      expect(summary.status).toBe("Done")
    }).pipe(
      Effect.provide(
        agentLayer({
          dir,
          store: EventStore.layerMemory,
          turns: [
            {
              text: "Let me try.",
              toolCalls: [
                { name: "frobnicate", params: { level: 11 } },
                { name: "bash", params: { command: 42 } },
                { name: "read_file", arguments: '{"path": "READ' },
                { name: "write_file", params: { path: "../escape.txt", content: "x" } },
                { name: "ls", params: {} }
              ]
            },
            (request) => {
              const results = toolResults(request.prompt)
              expect(results.map((r) => [r.name, r.isFailure])).toEqual([
                ["frobnicate", true],
                ["bash", true],
                ["read_file", true],
                ["write_file", true],
                ["ls", false]
              ])
              expect(String(results[0]?.result)).toContain("unknown tool 'frobnicate'")
              expect(String(results[1]?.result)).toContain("invalid arguments for bash")
              expect(String(results[3]?.result)).toContain("outside the sandbox")
              return { toolCalls: [{ name: "done", params: { summary: "recovered" } }] }
            }
          ]
        })
      )
    )
  })

  it.live("the thread fails when it runs out of steps", () => {
    const dir = tempDir()
    return Effect.gen(function* () {
      const summary = yield* (yield* DabgentAgent).simpleExecute("loop", { maxSteps: 2 })
      expect(summary.status).toBe("Failed")
      expect(summary.message).toContain("max steps")
    }).pipe(
      Effect.provide(
        agentLayer({
          dir,
          store: EventStore.layerMemory,
          turns: [{ toolCalls: [{ name: "ls", params: {} }] }, { toolCalls: [{ name: "ls", params: {} }] }]
        })
      )
    )
  })

  it.live(
    "resume after a crash mid-tool: the started tool is reported as interrupted and never run twice",
    () => {
      const dir = tempDir()
      const marker = join(dir, "runs.txt")
      const store = backends().find((b) => b.name === "sqlite")
      expect(store).toBeDefined()
      return Effect.gen(function* () {
        const sessionId = yield* startThread("append to runs.txt once", { maxSteps: 10 })
        // The crashed run: it recorded its turn and ToolStarted, ran nothing more.
        const log = threadLog(yield* EventStore)
        yield* log.append(ThreadEvents, {
          streamId: "dabgent",
          aggregateId: sessionId,
          events: [
            new LlmCompleted({
              text: "",
              toolCalls: [{ id: "c1", name: "bash", params: { command: "echo run >> runs.txt" } }],
              usage: { inputTokens: 1, outputTokens: 1 },
              finishReason: "tool-calls"
            }),
            new ToolStarted({ callId: "c1", name: "bash" })
          ],
          expectedVersion: 1
        })
        writeFileSync(marker, "run\n") // its side effect happened before the crash
        const summary = yield* runSession(sessionId)
        expect(summary.status).toBe("Done")
        expect(readFileSync(marker, "utf8")).toBe("run\n")
        expect(yield* eventTags(sessionId)).toEqual([
          "Prompted",
          "LlmCompleted",
          "ToolStarted",
          "ToolCompleted",
          "LlmCompleted",
          "ToolStarted",
          "ToolCompleted",
          "ThreadDone"
        ])
      }).pipe(
        Effect.provide(
          agentLayer({
            dir,
            store: EventStore.layerMemory,
            turns: [
              (request) => {
                const last = toolResults(request.prompt).at(-1)
                expect(last?.isFailure).toBe(true)
                expect(String(last?.result)).toContain("interrupted")
                return { toolCalls: [{ name: "done", params: { summary: "checked: ran once" } }] }
              }
            ]
          })
        )
      )
    }
  )

  it.live(
    "200 concurrent threads with the scripted model all finish in one process",
    () => {
      const dir = tempDir()
      const threads = 200
      return Effect.gen(function* () {
        const agent = yield* DabgentAgent
        const summaries = yield* Effect.forEach(
          Array.from({ length: threads }, (_, i) => i),
          (i) => agent.simpleExecute(`thread ${i}`, { sessionId: `t-${i}`, maxSteps: 5 }),
          { concurrency: "unbounded" }
        )
        expect(summaries.filter((s) => s.status !== "Done").slice(0, 2)).toEqual([])
        expect(summaries.length).toBe(threads)
        expect(new Set(summaries.map((s) => s.sessionId)).size).toBe(threads)
      }).pipe(
        Effect.provide(
          agentLayer({
            dir,
            store: EventStore.layerMemory,
            turns: Array.from({ length: threads * 3 }, () => (request: ScriptedLanguageModel.Request) => {
              const id = /thread (\d+)/.exec(JSON.stringify(request.prompt.content))?.[1] ?? "x"
              return writeRunDone(`f${id}.sh`, `echo ${id}\n`)(request)
            })
          })
        )
      )
    },
    120_000
  )
})
