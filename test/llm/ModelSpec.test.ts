import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Models from "../../src/llm/Models.js"
import * as ModelSpec from "../../src/llm/ModelSpec.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const parseError = (input: string): ModelSpec.ModelConfigError =>
  Either.match(ModelSpec.parse(input), {
    onLeft: (error) => error,
    onRight: (spec) => {
      throw new Error(`expected ${input} to be rejected, got ${ModelSpec.format(spec)}`)
    }
  })

describe("ModelSpec.parse", () => {
  it("parses the three providers into tagged values", () => {
    expect(ModelSpec.parse("openai:gpt-4o-mini")).toEqual(
      Either.right(ModelSpec.OpenAi({ model: "gpt-4o-mini" }))
    )
    expect(ModelSpec.parse("anthropic:claude-sonnet-4-5")).toEqual(
      Either.right(ModelSpec.Anthropic({ model: "claude-sonnet-4-5" }))
    )
    // only the first colon separates the provider: Ollama tags keep theirs
    expect(ModelSpec.parse(" openai-compat:qwen2.5-coder:7b ")).toEqual(
      Either.right(ModelSpec.OpenAiCompat({ model: "qwen2.5-coder:7b" }))
    )
  })

  it("rejects an unknown provider, naming the three options", () => {
    const error = parseError("gemini:pro")
    expect(error.reason).toBe("UnknownProvider")
    expect(error.message).toContain("gemini:pro")
    for (const provider of ["openai:", "anthropic:", "openai-compat:"])
      expect(error.message).toContain(provider)
  })

  it("rejects a missing provider or an empty name", () => {
    expect(parseError("gpt-4o").reason).toBe("UnknownProvider")
    expect(parseError("openai:").reason).toBe("EmptyName")
    expect(parseError("anthropic").reason).toBe("EmptyName")
    expect(parseError("  ").reason).toBe("MissingModel")
  })

  it("formats back and names the key variable", () => {
    const spec = ModelSpec.OpenAiCompat({ model: "llama3" })
    expect(ModelSpec.format(spec)).toBe("openai-compat:llama3")
    expect(ModelSpec.apiKeyEnvVar(spec)).toBe("DABGENT_API_KEY")
    expect(ModelSpec.apiKeyEnvVar(ModelSpec.OpenAi({ model: "x" }))).toBe("OPENAI_API_KEY")
    expect(ModelSpec.apiKeyEnvVar(ModelSpec.Anthropic({ model: "x" }))).toBe("ANTHROPIC_API_KEY")
  })
})

describe("Models.resolve", () => {
  it.effect("no model anywhere: a message naming the three options with an example each", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Models.resolve().pipe(withEnv({})))
      expect(error._tag).toBe("ModelConfigError")
      expect(error.message).toMatch(/^No model configured/)
      expect(error.message).toContain("--model")
      expect(error.message).toContain("DABGENT_MODEL")
      expect(error.message).toContain("openai:gpt-4o-mini")
      expect(error.message).toContain("anthropic:claude-sonnet-4-5")
      expect(error.message).toContain("openai-compat:qwen2.5-coder")
      expect(error.message).toContain("DABGENT_BASE_URL")
    })
  )

  it.effect("a missing key names its variable", () =>
    Effect.gen(function* () {
      const openai = yield* Effect.flip(
        Models.resolve().pipe(withEnv({ DABGENT_MODEL: "openai:gpt-4o", OPENAI_API_KEY: " " }))
      )
      expect(openai.message).toContain("OPENAI_API_KEY")
      const anthropic = yield* Effect.flip(Models.resolve({ model: "anthropic:claude-x" }).pipe(withEnv({})))
      expect(anthropic.message).toContain("ANTHROPIC_API_KEY")
    })
  )

  it.effect("openai-compat needs a base URL; the key is optional", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Models.resolve({ model: "openai-compat:qwen" }).pipe(withEnv({})))
      expect(error._tag === "ModelConfigError" ? error.reason : error._tag).toBe("MissingBaseUrl")
      expect(error.message).toContain("--base-url")
      const resolved = yield* Models.resolve().pipe(
        withEnv({ DABGENT_MODEL: "openai-compat:qwen", DABGENT_BASE_URL: "http://127.0.0.1:11434/v1" })
      )
      expect(resolved).toMatchObject({
        _tag: "OpenAiCompat",
        baseUrl: "http://127.0.0.1:11434/v1",
        apiKey: undefined
      })
    })
  )

  it.effect("flags win over the environment; keys stay Redacted", () =>
    Effect.gen(function* () {
      const resolved = yield* Models.resolve({ model: "openai-compat:b", baseUrl: "http://flag/v1" }).pipe(
        withEnv({
          DABGENT_MODEL: "openai:a",
          DABGENT_BASE_URL: "http://env/v1",
          DABGENT_API_KEY: "sk-env-secret"
        })
      )
      expect(resolved._tag).toBe("OpenAiCompat")
      expect(ModelSpec.format(resolved.spec)).toBe("openai-compat:b")
      expect(resolved._tag === "OpenAiCompat" ? resolved.baseUrl : "").toBe("http://flag/v1")
      expect(resolved.apiKey !== undefined && Redacted.isRedacted(resolved.apiKey)).toBe(true)
      expect(resolved.apiKey === undefined ? "" : Redacted.value(resolved.apiKey)).toBe("sk-env-secret")
      expect(JSON.stringify(resolved)).not.toContain("sk-env-secret")
    })
  )
})
