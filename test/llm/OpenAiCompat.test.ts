import { LanguageModel, Prompt, Tool, Toolkit } from "@effect/ai"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ModelError from "../../src/llm/ModelError.js"
import * as ModelSpec from "../../src/llm/ModelSpec.js"
import * as OpenAiCompat from "../../src/llm/OpenAiCompat.js"
import * as FakeChatServer from "../support/fakeChatServer.js"

const ReadFile = Tool.make("read_file", {
  description: "Read a file from the workspace",
  parameters: { path: Schema.String },
  success: Schema.String
})
const RunShell = Tool.make("run_shell", {
  parameters: { command: Schema.String, timeoutMs: Schema.Number },
  success: Schema.String
})
const Tools = Toolkit.make(ReadFile, RunShell, OpenAiCompat.RejectedToolCall)
const toolkit = Tools.pipe(
  Effect.provide(
    Tools.toLayer({
      read_file: () => Effect.die("unused"),
      run_shell: () => Effect.die("unused"),
      rejected_tool_call: () => Effect.die("unused")
    })
  )
)

const secret = "sk-test-very-secret-123"
const fastRetry = { maxRetries: 3, baseDelay: "10 millis", maxDelay: "5 seconds" } as const

const model = (server: FakeChatServer.FakeChatServer, name = "qwen", apiKey = secret) =>
  OpenAiCompat.layer({
    baseUrl: server.url,
    model: name,
    apiKey: Redacted.make(apiKey),
    retry: fastRetry
  }).pipe(Layer.provide(NodeHttpClient.layerUndici))

const ask = (prompt: Prompt.RawInput) =>
  LanguageModel.generateText({ prompt, toolkit, disableToolCallResolution: true })

const spec = ModelSpec.OpenAiCompat({ model: "qwen" })

describe("OpenAiCompat", () => {
  it.scopedLive(
    "a text turn: text, finish reason and usage; the request carries model, messages and tools",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeChatServer.scoped({
          turns: [{ text: "Hello there", usage: { inputTokens: 12, outputTokens: 3 } }]
        })
        const res = yield* ask([
          { role: "system", content: "Be brief." },
          { role: "user", content: "hi" }
        ]).pipe(Effect.provide(model(server)))
        expect(res.text).toBe("Hello there")
        expect(res.finishReason).toBe("stop")
        expect(res.usage.inputTokens).toBe(12)
        expect(res.usage.outputTokens).toBe(3)
        expect(res.toolCalls).toEqual([])

        const request = server.requests[0]
        expect(request?.path).toBe("/v1/chat/completions")
        expect(request?.headers["authorization"]).toBe(`Bearer ${secret}`)
        expect(request?.body).toMatchObject({
          model: "qwen",
          messages: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "hi" }
          ],
          tool_choice: "auto",
          tools: [
            {
              type: "function",
              function: {
                name: "read_file",
                description: "Read a file from the workspace",
                parameters: { type: "object", required: ["path"], properties: { path: { type: "string" } } }
              }
            },
            { type: "function", function: { name: "run_shell" } }
          ]
        })
        // the hidden tool is never offered to the model
        expect(JSON.stringify(request?.body)).not.toContain("rejected_tool_call")
      })
  )

  it.scopedLive("a tool-call turn, then the follow-up request carries tool_calls and tool messages", () =>
    Effect.gen(function* () {
      const server = yield* FakeChatServer.scoped({
        turns: [
          {
            text: "Let me look.",
            toolCalls: [
              { id: "call_a", name: "read_file", params: { path: "README.md" } },
              { id: "call_b", name: "run_shell", params: { command: "ls", timeoutMs: 1000 } }
            ],
            usage: { inputTokens: 40, outputTokens: 9 }
          },
          { text: "Done." }
        ]
      })
      const first = yield* ask("look around").pipe(Effect.provide(model(server)))
      expect(first.text).toBe("Let me look.")
      expect(first.finishReason).toBe("tool-calls")
      expect(first.usage).toMatchObject({ inputTokens: 40, outputTokens: 9, totalTokens: 49 })
      expect(first.toolCalls.map((c) => [c.id, c.name, c.params])).toEqual([
        ["call_a", "read_file", { path: "README.md" }],
        ["call_b", "run_shell", { command: "ls", timeoutMs: 1000 }]
      ])

      const followUp = Prompt.merge(
        Prompt.make("look around"),
        Prompt.fromMessages([
          ...Prompt.fromResponseParts(first.content).content,
          Prompt.toolMessage({
            content: [
              Prompt.toolResultPart({
                id: "call_a",
                name: "read_file",
                result: "# Readme",
                isFailure: false,
                providerExecuted: false
              }),
              Prompt.toolResultPart({
                id: "call_b",
                name: "run_shell",
                result: { exitCode: 0, stdout: "a b" },
                isFailure: false,
                providerExecuted: false
              })
            ]
          })
        ])
      )
      const second = yield* ask(followUp).pipe(Effect.provide(model(server)))
      expect(second.text).toBe("Done.")
      expect(server.chatBodies()[1]).toMatchObject({
        messages: [
          { role: "user", content: "look around" },
          {
            role: "assistant",
            content: "Let me look.",
            tool_calls: [
              {
                id: "call_a",
                type: "function",
                function: { name: "read_file", arguments: '{"path":"README.md"}' }
              },
              {
                id: "call_b",
                type: "function",
                function: { name: "run_shell", arguments: '{"command":"ls","timeoutMs":1000}' }
              }
            ]
          },
          { role: "tool", tool_call_id: "call_a", content: "# Readme" },
          { role: "tool", tool_call_id: "call_b", content: '{"exitCode":0,"stdout":"a b"}' }
        ]
      })
    })
  )

  it.scopedLive(
    "bad calls arrive as rejected_tool_call, in order, while the text and valid calls survive",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeChatServer.scoped({
          turns: [
            {
              text: "Trying things.",
              toolCalls: [
                { id: "ok", name: "read_file", params: { path: "a.txt" } },
                { id: "bad", name: "run_shell", params: { command: "ls", timeoutMs: "soon" } },
                { id: "unknown", name: "frobnicate", params: { level: 11 } },
                { id: "json", name: "read_file", arguments: '{"path": "READ' }
              ]
            }
          ]
        })
        const res = yield* ask("go").pipe(Effect.provide(model(server)))
        expect(res.text).toBe("Trying things.")
        expect(res.toolCalls.map((c) => [c.id, c.name])).toEqual([
          ["ok", "read_file"],
          ["bad", "rejected_tool_call"],
          ["unknown", "rejected_tool_call"],
          ["json", "rejected_tool_call"]
        ])
        const [, bad, unknown, json] = res.toolCalls
        expect(bad?.params).toMatchObject({ name: "run_shell", params: { command: "ls", timeoutMs: "soon" } })
        expect(bad?.name === "rejected_tool_call" ? bad.params.error : "").toContain("timeoutMs")
        expect(unknown?.params).toEqual({
          name: "frobnicate",
          params: { level: 11 },
          error: "unknown tool 'frobnicate'"
        })
        expect(json?.params).toEqual({
          name: "read_file",
          params: '{"path": "READ',
          error: "arguments are not valid JSON"
        })
      })
  )

  it.scopedLive(
    "a rejected call written back in history goes out under the model's own name and arguments",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeChatServer.scoped({ turns: [{ text: "ok" }] })
        yield* ask([
          { role: "user", content: "go" },
          {
            role: "assistant",
            content: [{ type: "tool-call", id: "json", name: "read_file", params: '{"path": "READ' }]
          },
          {
            role: "tool",
            content: [
              {
                type: "tool-result",
                id: "json",
                name: "read_file",
                result: { error: "arguments are not valid JSON" },
                isFailure: true,
                providerExecuted: false
              }
            ]
          }
        ]).pipe(Effect.provide(model(server)))
        expect(server.chatBodies()[0]).toMatchObject({
          messages: [
            { role: "user", content: "go" },
            {
              role: "assistant",
              content: null,
              tool_calls: [{ id: "json", function: { name: "read_file", arguments: '{"path": "READ' } }]
            },
            { role: "tool", tool_call_id: "json", content: '{"error":"arguments are not valid JSON"}' }
          ]
        })
      })
  )

  it.scopedLive("429 is retried after the Retry-After delay", () =>
    Effect.gen(function* () {
      const server = yield* FakeChatServer.scoped({
        turns: [FakeChatServer.rateLimited(1), { text: "after the wait" }]
      })
      const started = Date.now()
      const res = yield* ask("hi").pipe(Effect.provide(model(server)))
      expect(res.text).toBe("after the wait")
      expect(server.requests).toHaveLength(2)
      // the backoff alone would be ~10 ms; the server asked for a second
      expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    })
  )

  it.scopedLive("a Retry-After beyond the allowed wait fails at once with a message saying so", () =>
    Effect.gen(function* () {
      const server = yield* FakeChatServer.scoped({
        turns: [FakeChatServer.rateLimited(3600), { text: "never" }]
      })
      const error = yield* Effect.flip(ask("hi").pipe(Effect.provide(model(server))))
      expect(server.requests).toHaveLength(1)
      expect(error.message).toContain("429")
      expect(error.message).toContain("asks to wait 1h")
    })
  )

  it.scopedLive("500s are retried with backoff, then the answer comes through", () =>
    Effect.gen(function* () {
      const server = yield* FakeChatServer.scoped({
        turns: [FakeChatServer.serverError(500), FakeChatServer.serverError(503), { text: "recovered" }]
      })
      const res = yield* ask("hi").pipe(Effect.provide(model(server)))
      expect(res.text).toBe("recovered")
      expect(server.requests).toHaveLength(3)
    })
  )

  it.scopedLive("retries are bounded: persistent 500s fail with an HttpResponseError", () =>
    Effect.gen(function* () {
      const server = yield* FakeChatServer.scoped({ handler: () => FakeChatServer.serverError(502) })
      const error = yield* Effect.flip(ask("hi").pipe(Effect.provide(model(server))))
      expect(server.requests).toHaveLength(fastRetry.maxRetries + 1)
      expect(error._tag).toBe("HttpResponseError")
      expect(error.message).toContain("502")
    })
  )

  it.scopedLive(
    "a rejected key is a typed auth error naming the variable, never the key, and is not retried",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeChatServer.scoped({
          apiKey: "sk-the-right-one",
          turns: [{ text: "unreachable" }]
        })
        const error = yield* Effect.flip(ask("hi").pipe(Effect.provide(model(server))))
        expect(server.requests).toHaveLength(1)
        expect(error._tag).toBe("HttpResponseError")
        expect(error.message).toContain("DABGENT_API_KEY")
        const typed = ModelError.fromAiError(error, spec)
        expect(typed).toBeInstanceOf(ModelError.ModelAuthError)
        expect(typed.message).toContain("DABGENT_API_KEY")
        for (const text of [
          error.message,
          JSON.stringify(error),
          String(error),
          typed.message,
          JSON.stringify(typed)
        ])
          expect(text).not.toContain(secret)
      })
  )

  it.scopedLive("an unknown model is a typed error naming the model", () =>
    Effect.gen(function* () {
      const server = yield* FakeChatServer.scoped({ models: ["qwen"], turns: [{ text: "unreachable" }] })
      const error = yield* Effect.flip(ask("hi").pipe(Effect.provide(model(server, "llama-9000"))))
      expect(server.requests).toHaveLength(1)
      const typed = ModelError.fromAiError(error, ModelSpec.OpenAiCompat({ model: "llama-9000" }))
      expect(typed).toBeInstanceOf(ModelError.UnknownModelError)
      expect(typed.message).toContain("openai-compat:llama-9000")
      expect(typed.message).toContain("not found")
    })
  )

  it.scopedLive("a refused connection is retried, then reported as an HttpRequestError", () =>
    Effect.gen(function* () {
      const server = yield* Effect.promise(() => FakeChatServer.start())
      yield* Effect.promise(() => server.close())
      const error = yield* Effect.flip(ask("hi").pipe(Effect.provide(model(server))))
      expect(error._tag).toBe("HttpRequestError")
      expect(error.message).toContain("4 attempts")
      expect(JSON.stringify(error)).not.toContain(secret)
    })
  )

  it.scopedLive("streamText yields the same turn as parts", () =>
    Effect.gen(function* () {
      const server = yield* FakeChatServer.scoped({
        turns: [{ text: "streamed", toolCalls: [{ id: "c1", name: "read_file", params: { path: "x" } }] }]
      })
      const parts = yield* LanguageModel.streamText({
        prompt: "hi",
        toolkit,
        disableToolCallResolution: true
      }).pipe(Stream.runCollect, Effect.provide(model(server)))
      const types = Chunk.toReadonlyArray(parts).map((p) => p.type)
      expect(types).toEqual([
        "response-metadata",
        "text-start",
        "text-delta",
        "text-end",
        "tool-call",
        "finish"
      ])
    })
  )
})
