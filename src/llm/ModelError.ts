/**
 * Failures of a model call that a user must fix (a rejected key, a model the server does not
 * know), recognised from the `AiError` every `LanguageModel` fails with.
 *
 * `LanguageModel` can only fail with `AiError`, so our providers put a readable description on
 * the `HttpResponseError` and {@link fromAiError} turns it into one of these typed errors. The
 * same classification works for the OpenAI and Anthropic providers.
 *
 * @since 0.1.0
 */
import type * as AiError from "@effect/ai/AiError"
import * as Schema from "effect/Schema"
import * as ModelSpec from "./ModelSpec.js"

/**
 * The server refused the credentials (HTTP 401 or 403). Names the variable to fix, never the key.
 *
 * @since 0.1.0
 * @category errors
 */
export class ModelAuthError extends Schema.TaggedError<ModelAuthError>()("ModelAuthError", {
  model: Schema.String,
  envVar: Schema.String,
  status: Schema.Number
}) {
  override get message(): string {
    return `The server rejected the API key for ${this.model} (HTTP ${this.status}): check ${this.envVar}.`
  }
}

/**
 * The server does not know the model (HTTP 404, or a "model not found" answer).
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownModelError extends Schema.TaggedError<UnknownModelError>()("UnknownModelError", {
  model: Schema.String,
  status: Schema.Number,
  detail: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const detail = this.detail === undefined ? "" : `: ${this.detail}`
    return `The server does not know the model ${this.model} (HTTP ${this.status})${detail}. Check the model name (and, for openai-compat, the base URL).`
  }
}

const modelMissing =
  /model[^\n]{0,200}(not found|does not exist|not exist|unknown|not available)|(unknown|invalid) model/i

/**
 * Whether an HTTP status and response body mean "no such model". 404 always does: the
 * chat-completions path exists on every server we talk to, so a 404 names the model (or a base
 * URL without `/v1`, which the message also points at).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isUnknownModelResponse = (status: number, body: string | undefined): boolean =>
  status === 404 || ((status === 400 || status === 422) && body !== undefined && modelMissing.test(body))

/**
 * Whether an HTTP status means the credentials were refused.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isAuthStatus = (status: number): boolean => status === 401 || status === 403

/**
 * Recognises a rejected key or an unknown model in an `AiError` from any of the three providers;
 * every other error comes back unchanged.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromAiError = (
  error: AiError.AiError,
  spec: ModelSpec.ModelSpec
): ModelAuthError | UnknownModelError | AiError.AiError => {
  if (error._tag !== "HttpResponseError" || error.reason !== "StatusCode") return error
  const status = error.response.status
  if (isAuthStatus(status))
    return new ModelAuthError({ model: ModelSpec.format(spec), envVar: ModelSpec.apiKeyEnvVar(spec), status })
  if (isUnknownModelResponse(status, error.body))
    return new UnknownModelError({
      model: ModelSpec.format(spec),
      status,
      ...(error.body === undefined ? {} : { detail: error.body.slice(0, 300) })
    })
  return error
}
