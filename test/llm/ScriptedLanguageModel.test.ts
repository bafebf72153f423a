import { LanguageModel, Prompt, Tool, Toolkit } from "@effect/ai"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { RejectedToolCall } from "../../src/llm/RejectedToolCall.js"
import * as ScriptedLanguageModel from "../../src/testing/ScriptedLanguageModel.js"

const ReadFile = Tool.make("read_file", { parameters: { path: Schema.String }, success: Schema.String })
const Tools = Toolkit.make(ReadFile, RejectedToolCall)
const toolkit = Tools.pipe(
  Effect.provide(
    Tools.toLayer({ read_file: () => Effect.die("unused"), rejected_tool_call: () => Effect.die("unused") })
  )
)
const ask = (prompt: Prompt.RawInput) =>
  LanguageModel.generateText({ prompt, toolkit, disableToolCallResolution: true })

/** The last tool result in a prompt, as the model would read it. */
const lastToolResult = (prompt: Prompt.Prompt): unknown => {
  const tool = prompt.content.findLast((message) => message.role === "tool")
  return tool?.role === "tool" ? tool.content.at(-1)?.result : undefined
}

describe("ScriptedLanguageModel", () => {
  it.effect("plays fixed replies with tool calls and usage, and records each request", () =>
    Effect.gen(function* () {
      const first = yield* ask("read it")
      expect(first.text).toBe("Reading.")
      expect(first.finishReason).toBe("tool-calls")
      expect(first.usage).toMatchObject({ inputTokens: 7, outputTokens: 2, totalTokens: 9 })
      expect(first.toolCalls.map((c) => [c.id, c.name, c.params])).toEqual([
        ["call_1_1", "read_file", { path: "a.txt" }]
      ])
      const second = yield* ask("again")
      expect(second.text).toBe("Done.")
      expect(second.finishReason).toBe("stop")
      expect(second.usage).toMatchObject({ inputTokens: 0, outputTokens: 0 })

      const recording = yield* ScriptedLanguageModel.ScriptedLanguageModel
      const requests = yield* recording.requests
      expect(requests.map((r) => r.tools)).toEqual([["read_file"], ["read_file"]])
      expect(requests[1]?.prompt.content[0]?.role).toBe("user")
      expect(yield* recording.remaining).toBe(0)
    }).pipe(
      Effect.provide(
        ScriptedLanguageModel.layer([
          {
            text: "Reading.",
            toolCalls: [{ name: "read_file", params: { path: "a.txt" } }],
            usage: { inputTokens: 7, outputTokens: 2 }
          },
          { text: "Done." }
        ])
      )
    )
  )

  it.effect("a turn can be a function of the prompt, reading the tool results", () =>
    Effect.gen(function* () {
      const res = yield* ask([
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: [{ type: "tool-call", id: "c1", name: "read_file", params: { path: "x" } }]
        },
        {
          role: "tool",
          content: [
            {
              type: "tool-result",
              id: "c1",
              name: "read_file",
              result: "42",
              isFailure: false,
              providerExecuted: false
            }
          ]
        }
      ])
      expect(res.text).toBe("the file says 42")
    }).pipe(
      Effect.provide(
        ScriptedLanguageModel.layer([
          (request) => ({ text: `the file says ${String(lastToolResult(request.prompt))}` })
        ])
      )
    )
  )

  it.effect("routes bad calls to rejected_tool_call like the real provider", () =>
    Effect.gen(function* () {
      const res = yield* ask("go")
      expect(res.text).toBe("Mixed.")
      expect(res.toolCalls.map((c) => [c.id, c.name])).toEqual([
        ["ok", "read_file"],
        ["bad", "rejected_tool_call"],
        ["unknown", "rejected_tool_call"],
        ["json", "rejected_tool_call"]
      ])
      expect(res.toolCalls[2]?.params).toEqual({ name: "nope", params: {}, error: "unknown tool 'nope'" })
      expect(res.toolCalls[3]?.params).toMatchObject({
        name: "read_file",
        error: "arguments are not valid JSON"
      })
    }).pipe(
      Effect.provide(
        ScriptedLanguageModel.layer([
          {
            text: "Mixed.",
            toolCalls: [
              { id: "ok", name: "read_file", params: { path: "a" } },
              { id: "bad", name: "read_file", params: { path: 3 } },
              { id: "unknown", name: "nope", params: {} },
              { id: "json", name: "read_file", arguments: "{oops" }
            ]
          }
        ])
      )
    )
  )

  it.effect("fails clearly when the script runs out", () =>
    Effect.gen(function* () {
      yield* ask("one")
      const error = yield* Effect.flip(ask("two"))
      expect(error._tag).toBe("UnknownError")
      expect(error.message).toContain("the script ran out: turn 2 was requested but the script has 1 turn")
    }).pipe(Effect.provide(ScriptedLanguageModel.layer([{ text: "only one" }])))
  )

  it.effect(
    "without rejected_tool_call in the toolkit a bad call fails with a message saying what to add",
    () =>
      Effect.gen(function* () {
        const Only = Toolkit.make(ReadFile)
        const error = yield* Effect.flip(
          LanguageModel.generateText({
            prompt: "go",
            toolkit: Only.pipe(Effect.provide(Only.toLayer({ read_file: () => Effect.die("unused") }))),
            disableToolCallResolution: true
          })
        )
        expect(error._tag).toBe("MalformedOutput")
        expect(error.message).toContain("add RejectedToolCall to the toolkit")
      }).pipe(Effect.provide(ScriptedLanguageModel.layer([{ toolCalls: [{ name: "nope", params: {} }] }])))
  )

  it.effect(
    "answers 500 turns in order through a resolved toolkit (its speed is measured by npm run bench)",
    () =>
      Effect.gen(function* () {
        const resolved = yield* toolkit
        const turn = LanguageModel.generateText({
          prompt: "step",
          toolkit: resolved,
          disableToolCallResolution: true
        })
        const paths: Array<unknown> = []
        for (let i = 0; i < 500; i++) {
          const response = yield* turn
          paths.push(response.toolCalls[0]?.params)
        }
        expect(paths[0]).toEqual({ path: "f0" })
        expect(paths[499]).toEqual({ path: "f499" })
        expect((yield* (yield* ScriptedLanguageModel.ScriptedLanguageModel).requests).length).toBe(500)
      }).pipe(
        Effect.provide(
          ScriptedLanguageModel.layer(
            Array.from({ length: 500 }, (_, i) => ({
              toolCalls: [{ name: "read_file", params: { path: `f${i}` } }]
            }))
          )
        )
      )
  )
})
