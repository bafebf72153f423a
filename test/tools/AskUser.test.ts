/** The `ask_user` tool: offered to the model, checked like every tool, never run as a command. */
import * as Tool from "@effect/ai/Tool"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import * as AgentTools from "../../src/tools/AgentTools.js"
import * as ToolRunner from "../../src/tools/ToolRunner.js"
import * as Validator from "../../src/tools/Validator.js"

describe("ask_user", () => {
  it("is in the model's toolkit with a required, non-empty question", () => {
    const tool = AgentTools.AgentToolkit.tools.ask_user
    expect(tool.name).toBe("ask_user")
    expect(Tool.getJsonSchemaFromSchemaAst(tool.parametersSchema.ast)).toMatchObject({
      type: "object",
      required: ["question"],
      properties: { question: { type: "string", minLength: 1 } }
    })
    expect(AgentTools.tools.map((t) => t.name)).toContain("ask_user")
  })

  it("questionOf: the question, or the error result any tool gives for bad arguments", () => {
    expect(ToolRunner.questionOf({ question: "Which color?" })).toEqual(Either.right("Which color?"))
    for (const params of [{}, { question: "" }, { question: 42 }, null, "Which color?"]) {
      const outcome = ToolRunner.questionOf(params)
      expect(Either.isLeft(outcome)).toBe(true)
      if (Either.isLeft(outcome)) {
        expect(outcome.left.isError).toBe(true)
        expect(outcome.left.result).toContain("invalid arguments for ask_user")
      }
    }
  })

  it.effect("the runner does not run it: the tool worker turns it into a question", () =>
    Effect.gen(function* () {
      const outcome = yield* ToolRunner.run({ id: "c1", name: "ask_user", params: { question: "Color?" } })
      expect(outcome.isError).toBe(true)
      expect(outcome.result).toContain("answered by the user")
    }).pipe(
      Effect.provide(
        Layer.merge(
          Sandbox.layerLocal(mkdtempSync(join(tmpdir(), "dabgent-tools-"))),
          Validator.layerAcceptAll
        )
      )
    )
  )

  it.effect("an unknown tool's error result lists ask_user among the available tools", () =>
    Effect.gen(function* () {
      const outcome = yield* ToolRunner.run({ id: "c1", name: "ask", params: {} })
      expect(outcome.result).toContain("ask_user")
    }).pipe(
      Effect.provide(
        Layer.merge(
          Sandbox.layerLocal(mkdtempSync(join(tmpdir(), "dabgent-tools-"))),
          Validator.layerAcceptAll
        )
      )
    )
  )
})
