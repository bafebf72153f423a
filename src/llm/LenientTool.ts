/**
 * Lenient tool parameters for the OpenAI and Anthropic providers.
 *
 * Those providers hand the model's calls straight to `@effect/ai`'s decoding, which fails the
 * whole turn when one call's params do not match its tool. {@link lenient} swaps a tool's
 * parameter Schema for "any JSON object" while keeping the original JSON Schema (through a
 * `jsonSchema` annotation), so the model sees exactly the same tool and every call to a known
 * tool arrives with its raw params; the runtime then checks them with {@link decode} against the
 * strict tool and answers bad ones with an error result.
 *
 * Remaining limit: a call to a tool that does not exist (or, on OpenAI, arguments that are not
 * JSON) still fails the turn with `AiError.MalformedOutput`; catch it and retry the turn. Our
 * own `OpenAiCompat` provider has no such limit (see `RejectedToolCall`).
 *
 * @since 0.1.0
 */
import * as Tool from "@effect/ai/Tool"
import type * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as RejectedToolCall from "./RejectedToolCall.js"

/**
 * Any JSON object; the parameter Schema of a lenient tool.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AnyObject = Schema.Struct({}, Schema.Record({ key: Schema.String, value: Schema.Unknown }))

/**
 * The same tool with lenient params: identical JSON Schema on the wire, no decoding of params.
 *
 * @since 0.1.0
 * @category combinators
 */
export const lenient = <
  Name extends string,
  Config extends {
    readonly parameters: Tool.AnyParametersSchema
    readonly success: Schema.Schema.Any
    readonly failure: Schema.Schema.All
    readonly failureMode: Tool.FailureMode
  },
  R
>(
  tool: Tool.Tool<Name, Config, R>
) =>
  tool.setParameters(
    AnyObject.annotations({ jsonSchema: Tool.getJsonSchemaFromSchemaAst(tool.parametersSchema.ast) })
  )

/**
 * Checks raw params against the strict tool (the one before {@link lenient}); `Left` holds a
 * readable error for the model.
 *
 * @since 0.1.0
 * @category utils
 */
export const decode = (strict: Tool.Any, params: unknown): Either.Either<unknown, string> =>
  RejectedToolCall.decodeParams(strict, params)
