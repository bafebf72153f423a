/**
 * A `LanguageModel` that plays a script: for tests, examples and benchmarks.
 *
 * Each turn is a fixed reply or a function of the prompt the model received (so a turn can read
 * the tool results before answering). Tool calls go through the same checks as the real
 * `openai-compat` provider: a call to an unknown tool, with arguments that are not JSON, or with
 * params that fail the tool's Schema comes back as a `rejected_tool_call`. Every request is
 * recorded for assertions. A turn costs a few object allocations on top of `@effect/ai`'s own
 * decoding, so long sessions (hundreds of steps) stay cheap.
 *
 * ```ts
 * const model = ScriptedLanguageModel.layer([
 *   { text: "Let me look.", toolCalls: [{ name: "read_file", params: { path: "README.md" } }] },
 *   (prompt) => ({ toolCalls: [{ name: "done", params: { summary: lastToolResult(prompt) } }] })
 * ])
 * ```
 *
 * @since 0.1.0
 */
import * as AiError from "@effect/ai/AiError"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Prompt from "@effect/ai/Prompt"
import * as Response from "@effect/ai/Response"
import type * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as RejectedToolCall from "../llm/RejectedToolCall.js"

/**
 * A scripted tool call. `params` are checked against the tool's Schema; `arguments` (a raw JSON
 * string, possibly broken) is there to script a model that writes bad JSON.
 *
 * @since 0.1.0
 * @category models
 */
export type ScriptedToolCall =
  | { readonly id?: string; readonly name: string; readonly params: unknown }
  | { readonly id?: string; readonly name: string; readonly arguments: string }

/**
 * One answer of the model. Without `usage`, a turn reports 0 tokens each way; without
 * `finishReason`, "tool-calls" when it calls tools and "stop" otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reply {
  readonly text?: string
  readonly toolCalls?: ReadonlyArray<ScriptedToolCall>
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number }
  readonly finishReason?: Response.FinishReason
}

/**
 * What the model received in one turn.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly prompt: Prompt.Prompt
  /** The tools offered to the model (never `rejected_tool_call`). */
  readonly tools: ReadonlyArray<string>
  readonly toolChoice: LanguageModel.ProviderOptions["toolChoice"]
}

/**
 * A turn of the script: a fixed reply, or one computed from the request (an `Effect` may fail
 * with an `AiError` to script a provider failure).
 *
 * @since 0.1.0
 * @category models
 */
export type Turn = Reply | ((request: Request) => Reply | Effect.Effect<Reply, AiError.AiError>)

/**
 * The script's recording: every request in order, and how many turns are left.
 *
 * @since 0.1.0
 * @category models
 */
export interface Recording {
  readonly requests: Effect.Effect<ReadonlyArray<Request>>
  readonly remaining: Effect.Effect<number>
}

/**
 * The recording of the scripted model in the context, for assertions.
 *
 * @since 0.1.0
 * @category tags
 */
export class ScriptedLanguageModel extends Context.Tag("dabgent/testing/ScriptedLanguageModel")<
  ScriptedLanguageModel,
  Recording
>() {}

const source = "ScriptedLanguageModel"

const toRaw = (call: ScriptedToolCall, id: string): RejectedToolCall.RawToolCall =>
  "arguments" in call
    ? { id: call.id ?? id, name: call.name, params: { _tag: "Json", text: call.arguments } }
    : { id: call.id ?? id, name: call.name, params: { _tag: "Value", value: call.params } }

const zeroUsage = { inputTokens: 0, outputTokens: 0 }

interface TurnInput {
  readonly prompt: Prompt.Prompt
  readonly tools: ReadonlyArray<Tool.Any>
  readonly toolChoice: LanguageModel.ProviderOptions["toolChoice"]
}

type PartsDecoder = (
  raw: ReadonlyArray<Response.PartEncoded>
) => Effect.Effect<Array<Response.Part<Record<string, Tool.Any>>>, ParseResult.ParseError>

const decoders = new WeakMap<object, PartsDecoder>()

const decoderFor = (tools: Readonly<Record<string, Tool.Any>>): PartsDecoder => {
  const cached = decoders.get(tools)
  if (cached !== undefined) return cached
  const toolkit = Toolkit.make(...Object.values(tools))
  const decode: PartsDecoder = Schema.decodeUnknown(Schema.mutable(Schema.Array(Response.Part(toolkit))))
  decoders.set(tools, decode)
  return decode
}

/**
 * Builds the scripted model and its recording.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  turns: ReadonlyArray<Turn>
): Effect.Effect<{ readonly model: LanguageModel.Service; readonly recording: Recording }> =>
  Effect.gen(function* () {
    const requests: Array<Request> = []
    let next = 0

    const replyFor = (options: TurnInput): Effect.Effect<Reply, AiError.AiError> =>
      Effect.suspend(() => nextReply(options))

    const nextReply = (options: TurnInput): Effect.Effect<Reply, AiError.AiError> => {
      const index = next
      const turn = turns[index]
      if (turn === undefined)
        return Effect.fail(
          new AiError.UnknownError({
            module: source,
            method: "generateText",
            description: `the script ran out: turn ${index + 1} was requested but the script has ${turns.length} turn${turns.length === 1 ? "" : "s"}`
          })
        )
      next = index + 1
      const request: Request = {
        prompt: options.prompt,
        tools: RejectedToolCall.visibleTools(options.tools).map((tool) => tool.name),
        toolChoice: options.toolChoice
      }
      requests.push(request)
      if (typeof turn !== "function") return Effect.succeed(turn)
      const reply = turn(request)
      return Effect.isEffect(reply) ? reply : Effect.succeed(reply)
    }

    const generate = (options: TurnInput) =>
      Effect.flatMap(
        replyFor(options),
        (reply): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError> => {
          const parts: Array<Response.PartEncoded> = []
          if (reply.text !== undefined && reply.text !== "") parts.push({ type: "text", text: reply.text })
          const calls = reply.toolCalls ?? []
          if (calls.length > 0) {
            const routed = RejectedToolCall.routeAll(
              calls.map((call, i) => toRaw(call, `call_${next}_${i + 1}`)),
              options.tools
            )
            if (Either.isLeft(routed))
              return Effect.fail(
                new AiError.MalformedOutput({
                  module: source,
                  method: "generateText",
                  description: routed.left
                })
              )
            for (const part of routed.right) parts.push(part)
          }
          const usage = reply.usage ?? zeroUsage
          parts.push({
            type: "finish",
            reason: reply.finishReason ?? (calls.length > 0 ? "tool-calls" : "stop"),
            usage: {
              inputTokens: usage.inputTokens,
              outputTokens: usage.outputTokens,
              totalTokens: usage.inputTokens + usage.outputTokens
            }
          })
          return Effect.succeed(parts)
        }
      )

    const standard = yield* LanguageModel.make({
      generateText: generate,
      streamText: (options) =>
        Stream.fromIterableEffect(
          Effect.map(generate(options), (parts) =>
            parts.flatMap((part): Array<Response.StreamPartEncoded> => {
              if (part.type === "text")
                return [
                  { type: "text-start", id: "text" },
                  { type: "text-delta", id: "text", delta: part.text },
                  { type: "text-end", id: "text" }
                ]
              return part.type === "tool-call" || part.type === "finish" ? [part] : []
            })
          )
        )
    })
    // Fast path for the common call (`disableToolCallResolution: true` or no toolkit): the same
    // steps as core's generateText minus its per-call Schema construction (≈ 2 ms a turn), which
    // would dominate a long scripted session. Parts are decoded with the toolkit's own
    // `Response.Part` Schema, cached per toolkit, so the result is what core would return.
    const generateText: LanguageModel.Service["generateText"] = (options) => {
      if (options.toolkit !== undefined && options.disableToolCallResolution !== true)
        return standard.generateText(options)
      const effect = Effect.gen(function* () {
        const toolkit =
          options.toolkit === undefined
            ? Toolkit.empty
            : Effect.isEffect(options.toolkit)
              ? yield* options.toolkit
              : options.toolkit
        const toolChoice = options.toolChoice ?? "auto"
        const all: ReadonlyArray<Tool.Any> = Object.values(toolkit.tools)
        const tools =
          typeof toolChoice === "object" && "oneOf" in toolChoice
            ? all.filter((tool) => toolChoice.oneOf.includes(tool.name))
            : all
        const raw = yield* generate({
          prompt: Prompt.make(options.prompt),
          tools,
          toolChoice: all.length === 0 ? "none" : toolChoice
        })
        const content = yield* Effect.mapError(decoderFor(toolkit.tools)(raw), (error) =>
          AiError.MalformedOutput.fromParseError({ module: "LanguageModel", method: "generateText", error })
        )
        return new LanguageModel.GenerateTextResponse(content)
      })
      // The content was decoded with the toolkit's own Schema, as in core, so the typed view of
      // the response is sound; TypeScript cannot relate it to the generic signature by itself.
      return effect as never
    }
    const model: LanguageModel.Service = { ...standard, generateText }

    const recording: Recording = {
      requests: Effect.sync(() => requests.slice()),
      remaining: Effect.sync(() => turns.length - next)
    }
    return { model, recording }
  })

/**
 * The scripted model as a layer: `LanguageModel` plus its {@link ScriptedLanguageModel}
 * recording. Each build starts the script from its first turn.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  turns: ReadonlyArray<Turn>
): Layer.Layer<LanguageModel.LanguageModel | ScriptedLanguageModel> =>
  Layer.effectContext(
    Effect.map(make(turns), ({ model, recording }) =>
      Context.make(LanguageModel.LanguageModel, model).pipe(Context.add(ScriptedLanguageModel, recording))
    )
  )
