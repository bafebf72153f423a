/**
 * Which model a run talks to: `provider:name`, as given by `--model` or `DABGENT_MODEL`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"

/**
 * The providers dabgent can talk to.
 *
 * @since 0.1.0
 * @category models
 */
export const Provider = Schema.Literal("openai", "anthropic", "openai-compat")

/**
 * @since 0.1.0
 * @category models
 */
export type Provider = typeof Provider.Type

/**
 * A parsed model choice: the provider and the model name it understands.
 *
 * @since 0.1.0
 * @category models
 */
export type ModelSpec = Data.TaggedEnum<{
  OpenAi: { readonly model: string }
  Anthropic: { readonly model: string }
  OpenAiCompat: { readonly model: string }
}>

const { Anthropic, OpenAi, OpenAiCompat, $match } = Data.taggedEnum<ModelSpec>()

export {
  /**
   * @since 0.1.0
   * @category constructors
   */
  Anthropic,
  /**
   * @since 0.1.0
   * @category constructors
   */
  OpenAi,
  /**
   * @since 0.1.0
   * @category constructors
   */
  OpenAiCompat
}

/**
 * Pattern matching over the three providers.
 *
 * @since 0.1.0
 * @category utils
 */
export const match = $match

/**
 * The examples shown whenever a model is missing or malformed, one per provider.
 *
 * @since 0.1.0
 * @category constants
 */
export const examples: ReadonlyArray<string> = [
  "openai:gpt-4o-mini (needs OPENAI_API_KEY)",
  "anthropic:claude-sonnet-4-5 (needs ANTHROPIC_API_KEY)",
  "openai-compat:qwen2.5-coder (needs --base-url or DABGENT_BASE_URL, e.g. http://localhost:11434/v1; DABGENT_API_KEY if the server wants one)"
]

const howToChoose = `Choose one with --model or DABGENT_MODEL:\n${examples.map((e) => `  ${e}`).join("\n")}`

/**
 * A model choice that cannot work: nothing chosen, an unknown provider, an empty name, or a
 * missing key or base URL. Raised before anything is written, so the CLI can exit with code 2.
 *
 * @since 0.1.0
 * @category errors
 */
export class ModelConfigError extends Schema.TaggedError<ModelConfigError>()("ModelConfigError", {
  reason: Schema.Literal("MissingModel", "UnknownProvider", "EmptyName", "MissingApiKey", "MissingBaseUrl"),
  input: Schema.optional(Schema.String),
  envVar: Schema.optional(Schema.String)
}) {
  override get message(): string {
    switch (this.reason) {
      case "MissingModel":
        return `No model configured. ${howToChoose}`
      case "UnknownProvider":
        return `Unknown model provider in '${this.input ?? ""}'. ${howToChoose}`
      case "EmptyName":
        return `No model name in '${this.input ?? ""}' (expected provider:name). ${howToChoose}`
      case "MissingApiKey":
        return `Model '${this.input ?? ""}' needs an API key: set ${this.envVar ?? "the API key variable"}.`
      case "MissingBaseUrl":
        return (
          `Model '${this.input ?? ""}' needs the server's base URL: pass --base-url or set ` +
          `${this.envVar ?? "DABGENT_BASE_URL"} (for example http://localhost:11434/v1 for Ollama).`
        )
    }
  }
}

const providerOf = (prefix: string): Provider | undefined =>
  prefix === "openai" || prefix === "anthropic" || prefix === "openai-compat" ? prefix : undefined

/**
 * Parses `provider:name`. The name may itself contain colons (`openai-compat:qwen2.5:7b`);
 * only the first one separates the provider.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (input: string): Either.Either<ModelSpec, ModelConfigError> => {
  const trimmed = input.trim()
  if (trimmed === "") return Either.left(new ModelConfigError({ reason: "MissingModel" }))
  const colon = trimmed.indexOf(":")
  const provider = providerOf(colon < 0 ? trimmed : trimmed.slice(0, colon))
  if (provider === undefined)
    return Either.left(new ModelConfigError({ reason: "UnknownProvider", input: trimmed }))
  const model = colon < 0 ? "" : trimmed.slice(colon + 1).trim()
  if (model === "") return Either.left(new ModelConfigError({ reason: "EmptyName", input: trimmed }))
  switch (provider) {
    case "openai":
      return Either.right(OpenAi({ model }))
    case "anthropic":
      return Either.right(Anthropic({ model }))
    case "openai-compat":
      return Either.right(OpenAiCompat({ model }))
  }
}

/**
 * The provider of a spec, as written before the colon.
 *
 * @since 0.1.0
 * @category getters
 */
export const provider: (spec: ModelSpec) => Provider = $match({
  OpenAi: () => "openai" as const,
  Anthropic: () => "anthropic" as const,
  OpenAiCompat: () => "openai-compat" as const
})

/**
 * The spec written back as `provider:name`.
 *
 * @since 0.1.0
 * @category getters
 */
export const format = (spec: ModelSpec): string => `${provider(spec)}:${spec.model}`

/**
 * The environment variable that holds the spec's API key (optional for `openai-compat`).
 *
 * @since 0.1.0
 * @category getters
 */
export const apiKeyEnvVar: (spec: ModelSpec) => string = $match({
  OpenAi: () => "OPENAI_API_KEY",
  Anthropic: () => "ANTHROPIC_API_KEY",
  OpenAiCompat: () => "DABGENT_API_KEY"
})
