/** The README's library examples, kept compiling and running (on the memory store). */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  DabgentAgent,
  EventCodec,
  EventLog,
  EventStore,
  Models,
  Prompt,
  Prompted,
  Sandbox,
  SqliteEventStore,
  ThreadEvents,
  threadHandler,
  Validator
} from "../src/index.js"
import { PlannerHandler } from "../src/planner.js"
import { HandlerSpec, ScriptedLanguageModel } from "../src/testing/index.js"

describe("README examples", () => {
  it.effect("appends and reads a thread's events through the typed log", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const program = Effect.gen(function* () {
        const store = yield* EventStore
        const log = EventLog.make(store, EventCodec.make(ThreadEvents))
        yield* log.append(ThreadEvents, {
          streamId: "dabgent",
          aggregateId: "session-1",
          events: [new Prompted({ prompt: "write hello.py", maxSteps: 20 })],
          expectedVersion: 0
        })
        yield* Stream.runForEach(log.read({ streamId: "dabgent", aggregateId: "session-1" }), (e) =>
          Effect.sync(() => seen.push(`${e.stored.sequence} ${e.event._tag}`))
        )
      })
      yield* program.pipe(Effect.provide(EventStore.layerMemory))
      expect(seen).toEqual(["1 Prompted"])
      expect(PlannerHandler.key).toBe("dabgent/PlannerHandler")
    })
  )

  const spec = HandlerSpec.forHandler(threadHandler)
  it.effect("a prompt starts the agent", () =>
    spec
      .given([])
      .when(new Prompt({ prompt: "hi", maxSteps: 5 }))
      .thenEvents([new Prompted({ prompt: "hi", maxSteps: 5 })])
  )

  it.live(
    "composes DabgentAgent from layers; the test form swaps in memory, scripted and local layers",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "dabgent-readme-"))
      const program = Effect.gen(function* () {
        const agent = yield* DabgentAgent
        return yield* agent.simpleExecute("Make the tests pass", { maxSteps: 30 })
      })
      const TestAgent = DabgentAgent.layer.pipe(
        Layer.provideMerge(
          Validator.layer("test -f done.txt").pipe(Layer.provideMerge(Sandbox.layerLocal(dir)))
        ),
        Layer.provideMerge(
          ScriptedLanguageModel.layer([
            { toolCalls: [{ name: "write_file", params: { path: "done.txt", content: "ok" } }] },
            { toolCalls: [{ name: "done", params: { summary: "tests pass" } }] }
          ])
        ),
        Layer.provideMerge(EventStore.layerMemory)
      )
      // The README's production composition, type-checked here (building it needs a key).
      const AgentLive = DabgentAgent.layer.pipe(
        Layer.provideMerge(
          Validator.layer("npm test").pipe(Layer.provideMerge(Sandbox.layerAuto("./project")))
        ),
        Layer.provideMerge(Models.layerConfig({ model: "openai:gpt-4o-mini" })),
        Layer.provideMerge(SqliteEventStore.layer({ filename: ".dabgent/events.db" }))
      )
      expect(Layer.isLayer(AgentLive)).toBe(true)
      return Effect.gen(function* () {
        const summary = yield* program.pipe(Effect.provide(TestAgent))
        expect(summary).toMatchObject({ status: "Done", message: "tests pass", steps: 2 })
        expect(readFileSync(join(dir, "done.txt"), "utf8")).toBe("ok")
      })
    }
  )
})
