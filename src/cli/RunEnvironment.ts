/**
 * What every run from the command line is made of: the model (checked before anything is
 * written), the sandbox the options ask for, the validator, the clarifier, the thread
 * compaction budget and the store — and how the failures of a run map to exit codes.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Clarifier from "../coordinator/Clarifier.js"
import * as Models from "../llm/Models.js"
import * as Sandbox from "../sandbox/Sandbox.js"
import { ThreadCompaction } from "../thread/ThreadCompaction.js"
import * as Validator from "../tools/Validator.js"
import { ExitCode } from "./ExitCode.js"
import type { InputMode } from "./options.js"
import * as StoreLocation from "./StoreLocation.js"

/**
 * The settings a run's environment is built from.
 *
 * @since 0.1.0
 * @category models
 */
export interface EnvironmentConfig {
  readonly store: StoreLocation.StoreLocation
  readonly model: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly workdir: string
  readonly sandbox: Option.Option<"bwrap" | "local">
  readonly allowNetwork: boolean
  readonly validate: Option.Option<string>
  readonly input: InputMode
}

/**
 * A configuration problem: exit code 2.
 *
 * @since 0.1.0
 * @category errors
 */
export const configError = (error: { readonly message: string }): ExitCode =>
  new ExitCode({ code: 2, message: `dabgent: ${error.message}` })

const workFailed = (error: { readonly message: string }): ExitCode =>
  new ExitCode({ code: 1, message: `dabgent: ${error.message}` })

/**
 * The model from the options or the environment; a missing or bad one is exit 2 before
 * anything is opened.
 *
 * @since 0.1.0
 * @category models
 */
export const resolveModel = (config: Pick<EnvironmentConfig, "model" | "baseUrl">) =>
  Models.resolve({
    model: Option.getOrUndefined(config.model),
    baseUrl: Option.getOrUndefined(config.baseUrl)
  }).pipe(Effect.mapError(configError))

/**
 * The clarifier an input mode asks: inline at a terminal (`auto`), from stdin (`input`), or
 * nobody (`none`: the session waits for `dabgent answer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const clarifierLayer = (input: InputMode): Layer.Layer<Clarifier.Clarifier> =>
  input === "none" ? Clarifier.layerNone : input === "input" ? Clarifier.layerTerminal : Clarifier.layerAuto

/**
 * `--sandbox bwrap|local`, or bubblewrap when it works here with a one-line notice otherwise.
 *
 * @since 0.1.0
 * @category layers
 */
export const sandboxLayer = (config: Pick<EnvironmentConfig, "workdir" | "sandbox" | "allowNetwork">) =>
  Option.match(config.sandbox, {
    onNone: () =>
      Sandbox.layerAuto(config.workdir, {
        allowNetwork: config.allowNetwork,
        onFallback: (notice) => Console.error(`note: ${notice}`)
      }),
    onSome: (kind) =>
      kind === "local"
        ? Sandbox.layerLocal(config.workdir)
        : Sandbox.layerBwrap(config.workdir, { allowNetwork: config.allowNetwork })
  })

/**
 * Everything a run needs but the store, over the resolved model: a fleet worker runs many
 * sessions, each with its own sandbox and model, over one store.
 *
 * @since 0.1.0
 * @category layers
 */
export const sessionLayer = (config: Omit<EnvironmentConfig, "store">, resolved: Models.Resolved) =>
  Layer.mergeAll(
    clarifierLayer(config.input),
    Models.layerResolved(resolved).pipe(Layer.provide(NodeHttpClient.layerUndici)),
    Validator.layer(Option.getOrUndefined(config.validate)).pipe(Layer.provideMerge(sandboxLayer(config))),
    ThreadCompaction.layerConfig.pipe(
      Layer.mapError((error) => configError({ message: `DABGENT_CONTEXT_BUDGET: ${String(error)}` }))
    )
  )

/**
 * Everything a run needs, over the resolved model.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: EnvironmentConfig, resolved: Models.Resolved) =>
  sessionLayer(config, resolved).pipe(Layer.provideMerge(StoreLocation.layer(config.store)))

/**
 * OpenTelemetry export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (see `telemetry/Telemetry.ts`),
 * else nothing. The exporter is loaded only then, so it costs other runs no start-up time.
 * Closing the layer sends the buffered spans and metrics, whatever the exit code; a bad
 * `OTEL_EXPORTER_OTLP_HEADERS` is a configuration error (exit code 2).
 *
 * @since 0.1.0
 * @category layers
 */
export const telemetryLayer: Layer.Layer<never, ExitCode> = Layer.unwrapEffect(
  Effect.gen(function* () {
    const endpoint = yield* Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT"))
    if (Option.isNone(endpoint) || endpoint.value.trim() === "") return Layer.empty
    const Telemetry = yield* Effect.promise(() => import("../telemetry/Telemetry.js"))
    return Telemetry.layerConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))
  })
).pipe(Layer.mapError((error) => configError({ message: `telemetry: ${String(error)}` })))

/**
 * Exit codes for a run's failures: the store, the sandbox or a missing session are
 * configuration (2); a damaged log or a lost race is a failed run (1).
 *
 * @since 0.1.0
 * @category errors
 */
export const withExitCodes = <A, R>(
  run: Effect.Effect<
    A,
    | ExitCode
    | { readonly _tag: "StoreError"; readonly message: string }
    | { readonly _tag: "SandboxIOError"; readonly message: string }
    | { readonly _tag: "SandboxUnavailable"; readonly message: string }
    | { readonly _tag: "SessionNotFound"; readonly message: string }
    | { readonly _tag: "DecodeError"; readonly message: string }
    | { readonly _tag: "ConcurrencyError"; readonly message: string }
    | { readonly _tag: "ParseError"; readonly message: string },
    R
  >
): Effect.Effect<A, ExitCode, R> =>
  Effect.mapError(run, (error) => {
    switch (error._tag) {
      case "ExitCode":
        return error
      case "StoreError":
      case "SandboxIOError":
      case "SandboxUnavailable":
      case "SessionNotFound":
        return configError(error)
      case "DecodeError":
      case "ConcurrencyError":
      case "ParseError":
        return workFailed(error)
    }
  })
