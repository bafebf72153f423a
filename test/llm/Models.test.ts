import { LanguageModel, Tool, Toolkit } from "@effect/ai"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as LenientTool from "../../src/llm/LenientTool.js"
import * as ModelError from "../../src/llm/ModelError.js"
import * as Models from "../../src/llm/Models.js"
import * as ModelSpec from "../../src/llm/ModelSpec.js"

const secret = "sk-provider-secret-456"

/** An HttpClient that records requests and answers from a list. */
const fakeHttp = (answers: ReadonlyArray<{ status: number; body: unknown }>) => {
  const seen: Array<{ request: HttpClientRequest.HttpClientRequest; body: unknown }> = []
  const client = HttpClient.make((request) =>
    Effect.sync(() => {
      const text = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""
      const body: unknown = text === "" ? undefined : JSON.parse(text)
      seen.push({ request, body })
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)] ?? { status: 500, body: {} }
      return HttpClientResponse.fromWeb(
        request,
        new Response(JSON.stringify(answer.body), {
          status: answer.status,
          headers: { "content-type": "application/json" }
        })
      )
    })
  )
  return { seen, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

const RunShell = Tool.make("run_shell", {
  description: "Run a shell command",
  parameters: { command: Schema.String, timeoutMs: Schema.Number },
  success: Schema.String
})
const Strict = Toolkit.make(RunShell)
const LenientShell = LenientTool.lenient(RunShell)
const Lenient = Toolkit.make(LenientShell)
const lenientToolkit = Lenient.pipe(
  Effect.provide(Lenient.toLayer({ run_shell: () => Effect.die("unused") }))
)

const env = (entries: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))

const fast = { maxRetries: 1, baseDelay: "1 millis", maxDelay: "1 second" } as const

const anthropicMessage = (content: ReadonlyArray<unknown>, stopReason: string) => ({
  id: "msg_1",
  type: "message",
  role: "assistant",
  model: "claude-test",
  content,
  stop_reason: stopReason,
  stop_sequence: null,
  usage: { input_tokens: 21, output_tokens: 4 }
})

describe("Models: OpenAI and Anthropic layers from Config", () => {
  it.live("Anthropic: the key comes from ANTHROPIC_API_KEY; lenient params let a bad call through", () =>
    Effect.gen(function* () {
      const http = fakeHttp([
        {
          status: 200,
          body: anthropicMessage(
            [
              { type: "text", text: "Running." },
              {
                type: "tool_use",
                id: "toolu_1",
                name: "run_shell",
                input: { command: "ls", timeoutMs: "soon" }
              }
            ],
            "tool_use"
          )
        }
      ])
      const resolved = yield* Models.resolve({ model: "anthropic:claude-test", retry: fast }).pipe(
        env({ ANTHROPIC_API_KEY: secret })
      )
      const res = yield* LanguageModel.generateText({
        prompt: "list files",
        toolkit: lenientToolkit,
        disableToolCallResolution: true
      }).pipe(Effect.provide(Models.layerResolved(resolved).pipe(Layer.provide(http.layer))))

      expect(res.text).toBe("Running.")
      expect(res.usage.inputTokens).toBe(21)
      const call = res.toolCalls[0]
      expect(call?.params).toEqual({ command: "ls", timeoutMs: "soon" })
      // the runtime checks the raw params against the strict tool
      const checked = LenientTool.decode(Strict.tools.run_shell, call?.params)
      expect(checked._tag).toBe("Left")

      const sent = http.seen[0]
      expect(sent?.request.url).toMatch(/^https:\/\/api\.anthropic\.com\/v1\/messages/)
      expect(sent?.request.headers["x-api-key"]).toBe(secret)
      // the model sees the strict schema, not "any object"
      expect(sent?.body).toMatchObject({
        model: "claude-test",
        tools: [{ name: "run_shell", input_schema: Tool.getJsonSchema(RunShell) }]
      })
    })
  )

  it.live("Anthropic: a rejected key is a typed error naming ANTHROPIC_API_KEY, without the key", () =>
    Effect.gen(function* () {
      const http = fakeHttp([
        {
          status: 401,
          body: { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }
        }
      ])
      const resolved = yield* Models.resolve({ model: "anthropic:claude-test", retry: fast }).pipe(
        env({ ANTHROPIC_API_KEY: secret })
      )
      const error = yield* Effect.flip(
        LanguageModel.generateText({ prompt: "hi" }).pipe(
          Effect.provide(Models.layerResolved(resolved).pipe(Layer.provide(http.layer)))
        )
      )
      expect(http.seen).toHaveLength(1)
      const typed = ModelError.fromAiError(error, resolved.spec)
      expect(typed).toBeInstanceOf(ModelError.ModelAuthError)
      expect(typed.message).toContain("ANTHROPIC_API_KEY")
      for (const text of [error.message, JSON.stringify(error), typed.message])
        expect(text).not.toContain(secret)
    })
  )

  it.live(
    "OpenAI: the key comes from OPENAI_API_KEY as a bearer token; 5xx retried; 401 typed without the key",
    () =>
      Effect.gen(function* () {
        const http = fakeHttp([
          { status: 503, body: { error: { message: "overloaded" } } },
          { status: 401, body: { error: { message: "Incorrect API key provided", code: "invalid_api_key" } } }
        ])
        const resolved = yield* Models.resolve({ model: "openai:gpt-test", retry: fast }).pipe(
          env({ OPENAI_API_KEY: secret })
        )
        const error = yield* Effect.flip(
          LanguageModel.generateText({ prompt: "hi" }).pipe(
            Effect.provide(Models.layerResolved(resolved).pipe(Layer.provide(http.layer)))
          )
        )
        expect(http.seen).toHaveLength(2)
        expect(http.seen[0]?.request.url).toBe("https://api.openai.com/v1/responses")
        expect(http.seen[0]?.request.headers["authorization"]).toBe(`Bearer ${secret}`)
        const typed = ModelError.fromAiError(error, resolved.spec)
        expect(typed).toBeInstanceOf(ModelError.ModelAuthError)
        expect(typed.message).toContain("OPENAI_API_KEY")
        for (const text of [error.message, JSON.stringify(error)]) expect(text).not.toContain(secret)
      })
  )

  it.effect("layerConfig with no model fails with the configuration error before building anything", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Layer.build(Models.layerConfig()).pipe(Effect.scoped, env({})))
      expect(error._tag).toBe("ModelConfigError")
      expect(error.message).toContain("openai-compat:")
    })
  )

  it("fromAiError leaves other errors alone and spots a 400 'model does not exist'", () => {
    const spec = ModelSpec.OpenAiCompat({ model: "m" })
    expect(ModelError.isUnknownModelResponse(400, '{"error":"The model `m` does not exist."}')).toBe(true)
    expect(ModelError.isUnknownModelResponse(400, '{"error":"messages must not be empty"}')).toBe(false)
    expect(ModelError.isUnknownModelResponse(404, undefined)).toBe(true)
    expect(ModelSpec.format(spec)).toBe("openai-compat:m")
  })
})
