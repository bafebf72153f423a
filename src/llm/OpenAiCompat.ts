/**
 * A `LanguageModel` for any OpenAI-compatible chat-completions server (Ollama, vLLM, llama.cpp,
 * LM Studio): `POST {baseUrl}/chat/completions` with function tools, over `@effect/platform`'s
 * `HttpClient`.
 *
 * Bad tool calls (unparseable arguments, unknown tool, params failing the tool's Schema) come
 * back as calls to the hidden `rejected_tool_call` tool instead of failing the turn (see
 * `RejectedToolCall`); 429, 5xx and connection failures are retried (see `HttpRetry`); a
 * rejected key or an unknown model fails with a readable `AiError` that `ModelError.fromAiError`
 * turns into a typed error.
 *
 * @since 0.1.0
 */
import * as AiError from "@effect/ai/AiError"
import { IdGenerator } from "@effect/ai/IdGenerator"
import * as LanguageModel from "@effect/ai/LanguageModel"
import type * as Response from "@effect/ai/Response"
import type * as Tool from "@effect/ai/Tool"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as HttpRetry from "./HttpRetry.js"
import * as Wire from "./internal/chatCompletions.js"
import * as RejectedToolCall from "./RejectedToolCall.js"

export {
  /**
   * The hidden tool bad calls are routed to; include it in every toolkit passed to this model.
   *
   * @since 0.1.0
   * @category tools
   */
  RejectedToolCall
} from "./RejectedToolCall.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The server's API root, usually ending in `/v1` (`http://localhost:11434/v1` for Ollama). */
  readonly baseUrl: string
  readonly model: string
  /** Sent as a bearer token when present. */
  readonly apiKey?: Redacted.Redacted | undefined
  /** Named in the error when the key is rejected; `DABGENT_API_KEY` by default. */
  readonly apiKeyEnvVar?: string | undefined
  readonly retry?: HttpRetry.RetryOptions | undefined
  readonly temperature?: number | undefined
  readonly maxTokens?: number | undefined
}

const source = "OpenAiCompat"

const malformedOutput = (description: string, cause?: unknown) =>
  new AiError.MalformedOutput({
    module: source,
    method: "generateText",
    description,
    ...(cause === undefined ? {} : { cause })
  })

/**
 * Turns a decoded chat completion into `@effect/ai` response parts, routing bad tool calls to
 * `rejected_tool_call`.
 *
 * @since 0.1.0
 * @category utils
 */
export const toParts = (
  completion: Wire.ChatCompletion,
  tools: ReadonlyArray<Tool.Any>
): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError, IdGenerator> =>
  Effect.gen(function* () {
    const choice = completion.choices[0]
    if (choice === undefined) return yield* malformedOutput("the response has no choices")
    const parts: Array<Response.PartEncoded> = []
    if (completion.id != null || completion.model != null)
      parts.push({
        type: "response-metadata",
        ...(completion.id == null ? {} : { id: completion.id }),
        ...(completion.model == null ? {} : { modelId: completion.model })
      })
    const message = choice.message
    if (message.reasoning_content != null && message.reasoning_content !== "")
      parts.push({ type: "reasoning", text: message.reasoning_content })
    if (message.content != null && message.content !== "") parts.push({ type: "text", text: message.content })
    const calls = message.tool_calls ?? []
    const idGenerator = calls.length === 0 ? undefined : yield* IdGenerator
    const raw: Array<RejectedToolCall.RawToolCall> = []
    for (const call of calls) {
      const args = call.function.arguments
      raw.push({
        id: call.id ?? (idGenerator === undefined ? "call" : yield* idGenerator.generateId()),
        name: call.function.name,
        params:
          typeof args === "string" || args === undefined
            ? { _tag: "Json", text: args ?? "" }
            : { _tag: "Value", value: args }
      })
    }
    const routed = RejectedToolCall.routeAll(raw, tools)
    if (Either.isLeft(routed)) return yield* malformedOutput(routed.left)
    parts.push(...routed.right)
    const usage = completion.usage
    const inputTokens = usage?.prompt_tokens ?? undefined
    const outputTokens = usage?.completion_tokens ?? undefined
    parts.push({
      type: "finish",
      reason: Wire.finishReason(choice.finish_reason, calls.length > 0),
      usage: {
        inputTokens,
        outputTokens,
        totalTokens:
          usage?.total_tokens ??
          (inputTokens === undefined || outputTokens === undefined ? undefined : inputTokens + outputTokens)
      }
    })
    return parts
  })

const toStreamParts = (parts: ReadonlyArray<Response.PartEncoded>): Array<Response.StreamPartEncoded> => {
  const out: Array<Response.StreamPartEncoded> = []
  parts.forEach((part, index) => {
    const id = `part-${index}`
    switch (part.type) {
      case "text":
        out.push(
          { type: "text-start", id },
          { type: "text-delta", id, delta: part.text },
          { type: "text-end", id }
        )
        break
      case "reasoning":
        out.push(
          { type: "reasoning-start", id },
          { type: "reasoning-delta", id, delta: part.text },
          { type: "reasoning-end", id }
        )
        break
      case "tool-call":
      case "finish":
      case "response-metadata":
        out.push(part)
        break
      default:
        break
    }
  })
  return out
}

/**
 * Builds the model service. Needs an `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<LanguageModel.Service, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpRetry.transformClient({
        model: `openai-compat:${options.model}`,
        apiKeyEnvVar: options.apiKeyEnvVar ?? "DABGENT_API_KEY",
        retry: options.retry
      })
    )
    const url = `${options.baseUrl.replace(/\/+$/, "")}/chat/completions`
    const apiKey = options.apiKey

    const generate = (provider: LanguageModel.ProviderOptions) =>
      Effect.gen(function* () {
        const messages = Wire.messages(provider.prompt)
        if (Either.isLeft(messages)) return yield* messages.left
        const visible = RejectedToolCall.visibleTools(provider.tools)
        const responseFormat = Wire.responseFormat(provider.responseFormat)
        const body = {
          model: options.model,
          messages: messages.right,
          stream: false,
          ...(visible.length === 0
            ? {}
            : { tools: Wire.tools(visible), tool_choice: Wire.toolChoice(provider.toolChoice) }),
          ...(responseFormat === undefined ? {} : { response_format: responseFormat }),
          ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
          ...(options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens })
        }
        const request = HttpClientRequest.post(url).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyUnsafeJson(body),
          apiKey === undefined ? (r) => r : HttpClientRequest.bearerToken(apiKey)
        )
        const completion = yield* client.execute(request).pipe(
          Effect.flatMap(HttpClientResponse.schemaBodyJson(Wire.ChatCompletion)),
          Effect.scoped,
          Effect.catchTags({
            RequestError: (error) =>
              Effect.fail(
                AiError.HttpRequestError.fromRequestError({ module: source, method: "generateText", error })
              ),
            ResponseError: (error) =>
              AiError.HttpResponseError.fromResponseError({ module: source, method: "generateText", error }),
            ParseError: (error) =>
              Effect.fail(
                AiError.MalformedOutput.fromParseError({
                  module: source,
                  method: "generateText",
                  description: "the server's answer is not a chat completion",
                  error
                })
              )
          })
        )
        return yield* toParts(completion, provider.tools)
      })

    return yield* LanguageModel.make({
      generateText: generate,
      streamText: (provider) => Stream.fromIterableEffect(Effect.map(generate(provider), toStreamParts))
    })
  })

/**
 * The model as a `LanguageModel` layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))
