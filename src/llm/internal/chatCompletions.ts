/**
 * The OpenAI chat-completions wire format, as far as dabgent uses it: request building from an
 * `@effect/ai` prompt, and the response Schema.
 *
 * @since 0.1.0
 */
import * as AiError from "@effect/ai/AiError"
import type * as LanguageModel from "@effect/ai/LanguageModel"
import type * as Prompt from "@effect/ai/Prompt"
import type * as Response from "@effect/ai/Response"
import * as Tool from "@effect/ai/Tool"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"

/** @internal */
export interface WireToolCall {
  readonly id: string
  readonly type: "function"
  readonly function: { readonly name: string; readonly arguments: string }
}

/** @internal */
export type WireMessage =
  | { readonly role: "system"; readonly content: string }
  | { readonly role: "user"; readonly content: string }
  | {
      readonly role: "assistant"
      readonly content: string | null
      readonly tool_calls?: ReadonlyArray<WireToolCall>
    }
  | { readonly role: "tool"; readonly tool_call_id: string; readonly content: string }

const malformedInput = (description: string) =>
  new AiError.MalformedInput({ module: "OpenAiCompat", method: "generateText", description })

const textOf = (
  parts: ReadonlyArray<Prompt.Part>,
  kind: string
): Either.Either<string, AiError.MalformedInput> => {
  let text = ""
  for (const part of parts) {
    if (part.type === "text") text += part.text
    else if (part.type === "file")
      return Either.left(malformedInput(`${kind} file parts are not supported by openai-compat models`))
  }
  return Either.right(text)
}

/** Tool arguments go back as the model wrote them: a string stays a string (invalid JSON). */
const argumentsOf = (params: unknown): string =>
  typeof params === "string" ? params : JSON.stringify(params ?? {})

const resultText = (result: unknown): string =>
  typeof result === "string" ? result : JSON.stringify(result ?? null)

/** @internal */
export const messages = (
  prompt: Prompt.Prompt
): Either.Either<Array<WireMessage>, AiError.MalformedInput> => {
  const out: Array<WireMessage> = []
  for (const message of prompt.content) {
    switch (message.role) {
      case "system":
        out.push({ role: "system", content: message.content })
        break
      case "user": {
        const text = textOf(message.content, "user")
        if (Either.isLeft(text)) return Either.left(text.left)
        out.push({ role: "user", content: text.right })
        break
      }
      case "assistant": {
        let text = ""
        const calls: Array<WireToolCall> = []
        for (const part of message.content) {
          if (part.type === "text") text += part.text
          else if (part.type === "tool-call")
            calls.push({
              id: part.id,
              type: "function",
              function: { name: part.name, arguments: argumentsOf(part.params) }
            })
        }
        out.push(
          calls.length === 0
            ? { role: "assistant", content: text }
            : { role: "assistant", content: text === "" ? null : text, tool_calls: calls }
        )
        break
      }
      case "tool":
        for (const part of message.content)
          out.push({ role: "tool", tool_call_id: part.id, content: resultText(part.result) })
        break
    }
  }
  return Either.right(out)
}

/** @internal */
export const tools = (visible: ReadonlyArray<Tool.Any>) =>
  visible.map((tool) => ({
    type: "function" as const,
    function: {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: Tool.getJsonSchemaFromSchemaAst(tool.parametersSchema.ast)
    }
  }))

/** @internal */
export const toolChoice = (choice: LanguageModel.ToolChoice<string>): unknown => {
  if (typeof choice === "string") return choice
  if ("tool" in choice) return { type: "function", function: { name: choice.tool } }
  return choice.mode ?? "auto"
}

/** @internal */
export const responseFormat = (format: LanguageModel.ProviderOptions["responseFormat"]): unknown =>
  format.type === "text"
    ? undefined
    : {
        type: "json_schema",
        json_schema: {
          name: format.objectName,
          schema: Tool.getJsonSchemaFromSchemaAst(format.schema.ast),
          strict: false
        }
      }

const NullableString = Schema.optional(Schema.NullOr(Schema.String))
const Count = Schema.optional(Schema.NullOr(Schema.Number))

/** @internal */
export const ChatCompletion = Schema.Struct({
  id: NullableString,
  model: NullableString,
  choices: Schema.Array(
    Schema.Struct({
      message: Schema.Struct({
        content: NullableString,
        reasoning_content: NullableString,
        tool_calls: Schema.optional(
          Schema.NullOr(
            Schema.Array(
              Schema.Struct({
                id: NullableString,
                function: Schema.Struct({
                  name: Schema.String,
                  arguments: Schema.optional(Schema.Unknown)
                })
              })
            )
          )
        )
      }),
      finish_reason: NullableString
    })
  ),
  usage: Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        prompt_tokens: Count,
        completion_tokens: Count,
        total_tokens: Count
      })
    )
  )
})

/** @internal */
export type ChatCompletion = typeof ChatCompletion.Type

/** @internal */
export const finishReason = (
  reason: string | null | undefined,
  hasToolCalls: boolean
): typeof Response.FinishReason.Encoded => {
  switch (reason) {
    case "stop":
    case "eos":
      return "stop"
    case "length":
      return "length"
    case "tool_calls":
    case "function_call":
      return "tool-calls"
    case "content_filter":
      return "content-filter"
    case null:
    case undefined:
      return hasToolCalls ? "tool-calls" : "unknown"
    default:
      return "other"
  }
}
