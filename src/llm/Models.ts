/**
 * The `LanguageModel` layer for a model spec: OpenAI, Anthropic or an OpenAI-compatible server.
 *
 * Resolution ({@link resolve}) is separate from building the layer so a program can check the
 * whole model configuration (spec, key, base URL) before it writes anything, and fail with one
 * `ModelConfigError` whose message says what to set.
 *
 * @since 0.1.0
 */
import { AnthropicClient, AnthropicLanguageModel } from "@effect/ai-anthropic"
import { OpenAiClient, OpenAiLanguageModel } from "@effect/ai-openai"
import type * as LanguageModel from "@effect/ai/LanguageModel"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as HttpRetry from "./HttpRetry.js"
import * as ModelSpec from "./ModelSpec.js"
import * as OpenAiCompat from "./OpenAiCompat.js"

/**
 * Values given on the command line (or by an embedding program); each wins over its
 * environment variable.
 *
 * @since 0.1.0
 * @category models
 */
export interface Overrides {
  /** `provider:name`; else `DABGENT_MODEL`. */
  readonly model?: string | undefined
  /** For `openai-compat`; else `DABGENT_BASE_URL`. */
  readonly baseUrl?: string | undefined
  /** Else the provider's variable (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `DABGENT_API_KEY`). */
  readonly apiKey?: Redacted.Redacted | undefined
  readonly retry?: HttpRetry.RetryOptions | undefined
}

/**
 * Everything needed to build a model layer, checked.
 *
 * @since 0.1.0
 * @category models
 */
export type Resolved =
  | {
      readonly _tag: "OpenAi" | "Anthropic"
      readonly spec: ModelSpec.ModelSpec
      readonly apiKey: Redacted.Redacted
      readonly retry: HttpRetry.RetryOptions | undefined
    }
  | {
      readonly _tag: "OpenAiCompat"
      readonly spec: ModelSpec.ModelSpec
      readonly baseUrl: string
      readonly apiKey: Redacted.Redacted | undefined
      readonly retry: HttpRetry.RetryOptions | undefined
    }

const optionalString = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((s) => s.trim() !== "")))

const optionalRedacted = (name: string) =>
  Config.option(Config.redacted(name)).pipe(
    Config.map(Option.filter((key) => Redacted.value(key).trim() !== ""))
  )

/**
 * Checks a spec against the configuration: the key of OpenAI / Anthropic must be set, an
 * `openai-compat` model needs a base URL.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolveSpec = (
  spec: ModelSpec.ModelSpec,
  overrides: Omit<Overrides, "model"> = {}
): Effect.Effect<Resolved, ModelSpec.ModelConfigError | ConfigError.ConfigError> =>
  Effect.gen(function* () {
    const envVar = ModelSpec.apiKeyEnvVar(spec)
    const apiKey = overrides.apiKey ?? Option.getOrUndefined(yield* optionalRedacted(envVar))
    const retry = overrides.retry
    switch (spec._tag) {
      case "OpenAi":
      case "Anthropic":
        if (apiKey === undefined)
          return yield* new ModelSpec.ModelConfigError({
            reason: "MissingApiKey",
            input: ModelSpec.format(spec),
            envVar
          })
        return { _tag: spec._tag, spec, apiKey, retry }
      case "OpenAiCompat": {
        const baseUrl = overrides.baseUrl ?? Option.getOrUndefined(yield* optionalString("DABGENT_BASE_URL"))
        if (baseUrl === undefined)
          return yield* new ModelSpec.ModelConfigError({
            reason: "MissingBaseUrl",
            input: ModelSpec.format(spec),
            envVar: "DABGENT_BASE_URL"
          })
        return { _tag: "OpenAiCompat", spec, baseUrl, apiKey, retry }
      }
    }
  })

/**
 * Reads the whole model configuration: `--model` or `DABGENT_MODEL`, then {@link resolveSpec}.
 * With no model anywhere it fails with `ModelConfigError` "MissingModel", whose message names
 * the three providers with an example each.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (
  overrides: Overrides = {}
): Effect.Effect<Resolved, ModelSpec.ModelConfigError | ConfigError.ConfigError> =>
  Effect.gen(function* () {
    const input = overrides.model ?? Option.getOrUndefined(yield* optionalString("DABGENT_MODEL"))
    if (input === undefined) return yield* new ModelSpec.ModelConfigError({ reason: "MissingModel" })
    const spec = ModelSpec.parse(input)
    if (Either.isLeft(spec)) return yield* spec.left
    return yield* resolveSpec(spec.right, overrides)
  })

/**
 * The model layer for a resolved configuration, still needing an `HttpClient` (tests provide a
 * fake one). Every provider retries 429 / 5xx and reports a rejected key by its variable.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerResolved = (
  resolved: Resolved
): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> => {
  const transformClient = HttpRetry.transformClient({
    model: ModelSpec.format(resolved.spec),
    apiKeyEnvVar: ModelSpec.apiKeyEnvVar(resolved.spec),
    retry: resolved.retry
  })
  switch (resolved._tag) {
    case "OpenAi":
      return OpenAiLanguageModel.layer({ model: resolved.spec.model }).pipe(
        Layer.provide(OpenAiClient.layer({ apiKey: resolved.apiKey, transformClient }))
      )
    case "Anthropic":
      return AnthropicLanguageModel.layer({ model: resolved.spec.model }).pipe(
        Layer.provide(AnthropicClient.layer({ apiKey: resolved.apiKey, transformClient }))
      )
    case "OpenAiCompat":
      return OpenAiCompat.layer({
        baseUrl: resolved.baseUrl,
        model: resolved.spec.model,
        apiKey: resolved.apiKey,
        retry: resolved.retry
      })
  }
}

/**
 * The model layer for a spec, over Node's HTTP client (undici).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromSpec = (
  spec: ModelSpec.ModelSpec,
  overrides: Omit<Overrides, "model"> = {}
): Layer.Layer<LanguageModel.LanguageModel, ModelSpec.ModelConfigError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(resolveSpec(spec, overrides), layerResolved)).pipe(
    Layer.provide(NodeHttpClient.layerUndici)
  )

/**
 * The model layer from configuration: `DABGENT_MODEL`, `DABGENT_BASE_URL`, the provider's key
 * variable, each overridable.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides: Overrides = {}
): Layer.Layer<LanguageModel.LanguageModel, ModelSpec.ModelConfigError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(resolve(overrides), layerResolved)).pipe(
    Layer.provide(NodeHttpClient.layerUndici)
  )
