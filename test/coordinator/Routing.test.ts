import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { classify, heuristic } from "../../src/coordinator/Routing.js"
import { DabgentAgent, EventStore, Sandbox, Validator } from "../../src/index.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import { toolResults } from "../support/agentScript.js"

describe("routing", () => {
  it("the heuristic plans listed, sequenced or long work and keeps focused requests in one thread", () => {
    expect(heuristic("fix the typo in README.md").mode).toBe("thread")
    expect(heuristic("1. add the endpoint\n2. test it\n3. document it").mode).toBe("plan")
    expect(heuristic("add the endpoint, then write tests, then update the docs").mode).toBe("plan")
    expect(heuristic("x".repeat(800)).mode).toBe("plan")
  })

  it.effect("the model decides when it answers clearly; otherwise the heuristic does, and says so", () =>
    Effect.gen(function* () {
      const byModel = yield* classify("do many things")
      expect(byModel).toEqual({ mode: "plan", reason: "it has three separate parts", by: "model" })
      const unclear = yield* classify("fix the typo")
      expect(unclear.by).toBe("heuristic")
      expect(unclear.mode).toBe("thread")
      expect(unclear.reason).toContain("unclear")
    }).pipe(
      Effect.provide(
        ScriptedLanguageModel.layer([
          { text: "plan: it has three separate parts" },
          { text: "hmm, hard to say" }
        ])
      )
    )
  )

  it.live("DabgentAgent.execute records the route and runs a single thread for a focused request", () => {
    const dir = mkdtempSync(join(tmpdir(), "dabgent-route-"))
    const layer = DabgentAgent.layer.pipe(
      Layer.provideMerge(Validator.layerAcceptAll.pipe(Layer.provideMerge(Sandbox.layerLocal(dir)))),
      Layer.provideMerge(
        ScriptedLanguageModel.layer([
          { text: "thread: one small edit" },
          (request) =>
            toolResults(request.prompt).length === 0
              ? { toolCalls: [{ name: "write_file", params: { path: "README.md", content: "fixed" } }] }
              : { toolCalls: [{ name: "done", params: { summary: "typo fixed" } }] },
          { toolCalls: [{ name: "done", params: { summary: "typo fixed" } }] }
        ])
      ),
      Layer.provideMerge(EventStore.layerMemory)
    )
    return Effect.gen(function* () {
      const result = yield* (yield* DabgentAgent).execute("fix the typo in README.md")
      expect(result.mode).toBe("thread")
      expect(result.route).toEqual({ mode: "thread", reason: "one small edit", by: "model" })
      expect(result.summary.status).toBe("Done")
      const store = yield* EventStore
      const routes = yield* Stream.runCollect(
        store.read({ streamId: "dabgent", types: ["route.RouteChosen"] })
      )
      expect(Chunk.toReadonlyArray(routes).map((e) => e.data)).toEqual([
        { mode: "thread", reason: "one small edit", by: "model" }
      ])
    }).pipe(Effect.provide(layer))
  })
})
