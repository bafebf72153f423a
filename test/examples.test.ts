/** The examples under examples/: they type-check, and they run on test layers. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { execFile } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { AgentLive, program } from "../examples/embed.js"
import { DabgentAgent, EventStore, Sandbox, Validator } from "../src/index.js"
import { ScriptedLanguageModel } from "../src/testing/index.js"
import { promptText } from "./support/agentScript.js"

describe("examples/embed.ts", () => {
  it("type-checks", async () => {
    const tsc = join(process.cwd(), "node_modules", "typescript", "bin", "tsc")
    const result = await promisify(execFile)(process.execPath, [tsc, "-p", "examples/tsconfig.json"]).catch(
      (error: { stdout?: string; code?: number }) => ({
        stdout: error.stdout ?? "",
        stderr: "",
        code: error.code
      })
    )
    expect(result.stdout).toBe("")
  }, 120_000)

  it.live("runs on test layers: the thread gives up, the plan finishes", () => {
    const dir = mkdtempSync(join(tmpdir(), "dabgent-example-"))
    const model = (request: ScriptedLanguageModel.Request): ScriptedLanguageModel.Reply => {
      if (request.tools.length === 0) {
        return { text: JSON.stringify({ tasks: [{ id: "1", description: "fix it", kind: "tool_call" }] }) }
      }
      if (/Make the failing test pass/.test(promptText(request.prompt))) return { text: "I am not sure." }
      return { toolCalls: [{ name: "done", params: { summary: "fixed" } }] }
    }
    const TestAgent = DabgentAgent.layer.pipe(
      Layer.provideMerge(Validator.layerAcceptAll.pipe(Layer.provideMerge(Sandbox.layerLocal(dir)))),
      Layer.provideMerge(ScriptedLanguageModel.layer(Array.from({ length: 60 }, () => model))),
      Layer.provideMerge(EventStore.layerMemory)
    )
    expect(Layer.isLayer(AgentLive(dir))).toBe(true)
    return Effect.gen(function* () {
      expect(yield* program).toBe("all_done")
    }).pipe(Effect.provide(TestAgent))
  })
})
