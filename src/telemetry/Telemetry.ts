/**
 * OpenTelemetry export: spans and metrics sent over OTLP/HTTP (JSON) to a collector, with
 * `@effect/opentelemetry`'s own exporters (no OpenTelemetry SDK is loaded).
 *
 * Configured like any OpenTelemetry program: `OTEL_EXPORTER_OTLP_ENDPOINT` (the collector's
 * base URL; `/v1/traces` and `/v1/metrics` are appended), `OTEL_SERVICE_NAME` (default
 * `dabgent`), `OTEL_EXPORTER_OTLP_HEADERS` (`key=value,key2=value2`, held as a secret). Without
 * an endpoint, `layerConfig` adds nothing. Closing the layer's scope sends what is buffered.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as OtlpMetrics from "@effect/opentelemetry/OtlpMetrics"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/**
 * Where and how to export.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The collector's base URL, e.g. `http://127.0.0.1:4318`. */
  readonly endpoint: string
  /** `service.name` of the resource; `dabgent` by default. */
  readonly serviceName?: string
  /** Sent with every export (an API key for a hosted backend, say); never logged. */
  readonly headers?: Redacted.Redacted<Readonly<Record<string, string>>>
  /** How often buffered spans and metrics are sent; 5 s and 10 s by default. */
  readonly tracesInterval?: Duration.DurationInput
  readonly metricsInterval?: Duration.DurationInput
  /** How long closing the layer waits for the last export; 3 s by default. */
  readonly shutdownTimeout?: Duration.DurationInput
}

const join = (endpoint: string, path: string): string => `${endpoint.replace(/\/+$/, "")}${path}`

/**
 * Exports every span (as the tracer of the effects it is provided to) and every `Metric` of the
 * process. Needs an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<never, never, HttpClient.HttpClient> => {
  const headers = options.headers === undefined ? {} : Redacted.value(options.headers)
  const resource = { serviceName: options.serviceName ?? "dabgent" }
  const shutdownTimeout = options.shutdownTimeout ?? "3 seconds"
  return Layer.mergeAll(
    OtlpTracer.layer({
      url: join(options.endpoint, "/v1/traces"),
      resource,
      headers,
      shutdownTimeout,
      ...(options.tracesInterval === undefined ? {} : { exportInterval: options.tracesInterval })
    }),
    OtlpMetrics.layer({
      url: join(options.endpoint, "/v1/metrics"),
      resource,
      headers,
      shutdownTimeout,
      ...(options.metricsInterval === undefined ? {} : { exportInterval: options.metricsInterval })
    })
  ).pipe(
    Layer.provide(OtlpSerialization.layerJson),
    // The exporters' own failure logs redact the configured headers like `authorization`.
    Layer.locallyWith(Headers.currentRedactedNames, (names) => [
      ...names,
      ...Object.keys(headers).map((name) => name.toLowerCase())
    ])
  )
}

/**
 * Parses `OTEL_EXPORTER_OTLP_HEADERS` (`key=value` pairs separated by commas, values
 * percent-encoded). The message of a bad entry names its position, never its text.
 *
 * @since 0.1.0
 * @category config
 */
export const parseHeaders = (
  raw: Redacted.Redacted<string>
): Either.Either<Redacted.Redacted<Readonly<Record<string, string>>>, string> => {
  const headers: Record<string, string> = {}
  const entries = Redacted.value(raw).split(",")
  for (const [index, entry] of entries.entries()) {
    if (entry.trim() === "") continue
    const equals = entry.indexOf("=")
    const name = equals === -1 ? "" : entry.slice(0, equals).trim()
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      return Either.left(`entry ${index + 1} is not key=value with a header name as key`)
    }
    try {
      headers[name] = decodeURIComponent(entry.slice(equals + 1).trim())
    } catch {
      return Either.left(`the value of entry ${index + 1} (${name}) is not valid percent-encoding`)
    }
  }
  return Either.right(Redacted.make(headers))
}

/**
 * The export settings from the environment; `None` when `OTEL_EXPORTER_OTLP_ENDPOINT` is unset
 * or empty.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Option.Option<Options>> = Config.all({
  endpoint: Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT")).pipe(
    Config.map(Option.filter((endpoint) => endpoint.trim() !== ""))
  ),
  serviceName: Config.string("OTEL_SERVICE_NAME").pipe(
    Config.map((name) => name.trim()),
    Config.withDefault("dabgent"),
    Config.map((name) => (name === "" ? "dabgent" : name))
  ),
  headers: Config.option(
    Config.redacted("OTEL_EXPORTER_OTLP_HEADERS").pipe(
      Config.mapOrFail((raw) =>
        Either.mapLeft(parseHeaders(raw), (message) =>
          ConfigError.InvalidData(["OTEL_EXPORTER_OTLP_HEADERS"], message)
        )
      )
    )
  )
}).pipe(
  Config.map(({ endpoint, headers, serviceName }) =>
    Option.map(endpoint, (endpoint): Options => ({
      endpoint: endpoint.trim(),
      serviceName,
      ...(Option.isSome(headers) ? { headers: headers.value } : {})
    }))
  )
)

/**
 * {@link layer} from the environment ({@link config}); nothing at all when no endpoint is set.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<never, ConfigError.ConfigError, HttpClient.HttpClient> =
  Layer.unwrapEffect(
    Config.map(config, Option.match({ onNone: () => Layer.empty, onSome: (options) => layer(options) }))
  )
