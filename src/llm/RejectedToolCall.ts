/**
 * Bad tool calls survive a turn as calls to a hidden `rejected_tool_call` tool.
 *
 * `@effect/ai` decodes a model's tool calls against the toolkit and fails the whole turn on one
 * bad call (unknown tool, unparseable JSON, params that do not match the tool's Schema), losing
 * the text and the good calls with it. Our providers (`OpenAiCompat`, `ScriptedLanguageModel`)
 * therefore check each call first and rename a bad one to {@link RejectedToolCall}, keeping its
 * id and position and carrying the model's name, raw params and a readable error. The toolkit
 * must contain `RejectedToolCall` (so core can decode it); the providers never show it to the
 * model. The runtime answers such a call with an error result under the name the model used.
 *
 * @since 0.1.0
 */
import type * as Response from "@effect/ai/Response"
import * as Tool from "@effect/ai/Tool"
import type * as AST from "effect/SchemaAST"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * The hidden tool a bad call is renamed to. `name` and `params` are what the model sent
 * (`params` is the raw argument string when it was not valid JSON); `error` says what was wrong.
 *
 * @since 0.1.0
 * @category tools
 */
export const RejectedToolCall = Tool.make("rejected_tool_call", {
  description: "Internal: a tool call the model made that could not be accepted. Never offered to the model.",
  parameters: { name: Schema.String, params: Schema.Unknown, error: Schema.String }
})

/**
 * The name of {@link RejectedToolCall}.
 *
 * @since 0.1.0
 * @category constants
 */
export const name: "rejected_tool_call" = RejectedToolCall.name

/**
 * One tool call as a provider received it. `params` is either the raw argument string (to be
 * parsed as JSON) or an already parsed value.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawToolCall {
  readonly id: string
  readonly name: string
  readonly params:
    { readonly _tag: "Json"; readonly text: string } | { readonly _tag: "Value"; readonly value: unknown }
}

/**
 * The tools a provider may offer to the model: all but {@link RejectedToolCall}.
 *
 * @since 0.1.0
 * @category utils
 */
export const visibleTools = (tools: ReadonlyArray<Tool.Any>): ReadonlyArray<Tool.Any> =>
  tools.filter((tool) => tool.name !== name)

type Decoder = (u: unknown) => Either.Either<unknown, ParseResult.ParseError>

const decoders = new WeakMap<AST.AST, Decoder>()

/**
 * Decodes raw params with a tool's parameter Schema, with the same defaults as `@effect/ai`
 * (excess properties ignored), so "valid here" means "decodable by core". Decoders are cached
 * per Schema.
 *
 * @since 0.1.0
 * @category utils
 */
export const decodeParams = (tool: Tool.Any, params: unknown): Either.Either<unknown, string> => {
  const ast = tool.parametersSchema.ast
  const cached = decoders.get(ast)
  const decode = cached ?? Schema.decodeUnknownEither(Schema.make<unknown, unknown, never>(ast))
  if (cached === undefined) decoders.set(ast, decode)
  return Either.mapLeft(decode(params), (error) => ParseResult.TreeFormatter.formatErrorSync(error))
}

const parseJson = (text: string): Either.Either<unknown, string> => {
  if (text.trim() === "") return Either.right({})
  try {
    return Either.right(Tool.unsafeSecureJsonParse(text))
  } catch {
    return Either.left("arguments are not valid JSON")
  }
}

/**
 * Checks one call against the tools of the request and returns the encoded part to emit: the
 * call unchanged when it is valid, otherwise a `rejected_tool_call` with the same id.
 *
 * @since 0.1.0
 * @category utils
 */
export const route = (call: RawToolCall, tools: ReadonlyArray<Tool.Any>): Response.ToolCallPartEncoded => {
  const reject = (params: unknown, error: string): Response.ToolCallPartEncoded => ({
    type: "tool-call",
    id: call.id,
    name,
    params: { name: call.name, params, error }
  })
  const parsed = call.params._tag === "Json" ? parseJson(call.params.text) : Either.right(call.params.value)
  if (Either.isLeft(parsed))
    return reject(call.params._tag === "Json" ? call.params.text : undefined, parsed.left)
  const tool = call.name === name ? undefined : tools.find((t) => t.name === call.name)
  if (tool === undefined) return reject(parsed.right, `unknown tool '${call.name}'`)
  const decoded = decodeParams(tool, parsed.right)
  if (Either.isLeft(decoded))
    return reject(parsed.right, `invalid arguments for '${call.name}': ${decoded.left}`)
  return { type: "tool-call", id: call.id, name: call.name, params: parsed.right }
}

/**
 * Routes every call of a turn. Fails with a readable description when some call must be rejected
 * but the request's tools have no `rejected_tool_call` for core to decode it with.
 *
 * @since 0.1.0
 * @category utils
 */
export const routeAll = (
  calls: ReadonlyArray<RawToolCall>,
  tools: ReadonlyArray<Tool.Any>
): Either.Either<Array<Response.ToolCallPartEncoded>, string> => {
  const parts = calls.map((call) => route(call, tools))
  const rejected = parts.filter((part, i) => part.name === name && calls[i]?.name !== name)
  if (rejected.length === 0 || tools.some((tool) => tool.name === name)) return Either.right(parts)
  return Either.left(
    `the model made tool calls that cannot be accepted (${rejected
      .map((part) => `${part.id}: ${describe(part.params)}`)
      .join(
        "; "
      )}), and the toolkit has no '${name}' tool to report them with; add RejectedToolCall to the toolkit`
  )
}

const decodeRejected = Schema.decodeUnknownOption(
  Schema.Struct({ name: Schema.String, error: Schema.String })
)

const describe = (params: unknown): string => {
  const decoded = decodeRejected(params)
  return decoded._tag === "Some" ? `${decoded.value.name}: ${decoded.value.error}` : "rejected"
}
