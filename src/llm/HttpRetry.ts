/**
 * Retries and readable failures for the HTTP calls behind every model provider.
 *
 * One `HttpClient` transform serves all three providers (`OpenAiClient` and `AnthropicClient`
 * take it as `transformClient`; our chat-completions model applies it itself):
 *
 * - 429, 5xx (except 501) and connection failures are retried with jittered exponential backoff,
 *   waiting what `Retry-After` asks for (seconds or an HTTP date) when the server says so;
 * - any other non-2xx answer becomes a `ResponseError` whose description says what to fix
 *   (the API key variable, the model name), with the credentials removed from the request it
 *   carries, so the key never reaches an error message, a log line or an error's JSON.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as ModelError from "./ModelError.js"

/**
 * How often and how patiently to retry.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions {
  /** Retries after the first attempt (so `maxRetries + 1` requests at most). */
  readonly maxRetries: number
  /** The first backoff; each retry doubles it, with ±20% jitter. */
  readonly baseDelay: Duration.DurationInput
  /** The longest backoff, and the longest `Retry-After` we are willing to wait; beyond it we give up. */
  readonly maxDelay: Duration.DurationInput
}

/**
 * Five retries from one second up to a minute.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRetry: RetryOptions = { maxRetries: 5, baseDelay: "1 second", maxDelay: "1 minute" }

/**
 * What the failures should name: the model (for "unknown model") and the variable holding the
 * key (for "rejected key").
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly model: string
  readonly apiKeyEnvVar: string
  readonly retry?: RetryOptions | undefined
}

const sensitiveHeaders = [
  "authorization",
  "x-api-key",
  "api-key",
  "cookie",
  "openai-organization",
  "openai-project"
]

/**
 * The request without its credentials, for error values.
 *
 * @since 0.1.0
 * @category utils
 */
export const withoutCredentials = (
  request: HttpClientRequest.HttpClientRequest
): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.make(request.method)(request.url, {
    urlParams: request.urlParams,
    headers: Headers.remove(request.headers, sensitiveHeaders)
  })

/**
 * Reads a `Retry-After` header: delay-seconds or an HTTP date (relative to `nowMillis`).
 *
 * @since 0.1.0
 * @category utils
 */
export const parseRetryAfter = (
  value: string | undefined,
  nowMillis: number
): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Duration.seconds(Number(trimmed))
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Duration.millis(Math.max(0, date - nowMillis))
}

/**
 * Whether an HTTP status is worth another attempt.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryableStatus = (status: number): boolean =>
  status === 429 || (status >= 500 && status !== 501)

const backoff = (retry: RetryOptions, attempt: number): Effect.Effect<Duration.Duration> =>
  Effect.map(Random.nextRange(0.8, 1.2), (jitter) =>
    Duration.min(
      Duration.millis(Duration.toMillis(retry.baseDelay) * 2 ** attempt * jitter),
      Duration.decode(retry.maxDelay)
    )
  )

const describe = (status: number, options: Options): string => {
  if (ModelError.isAuthStatus(status))
    return `the server rejected the API key (HTTP ${status}); check ${options.apiKeyEnvVar}`
  if (status === 404)
    return `model ${options.model} not found (HTTP 404); check the model name and the base URL`
  if (status === 429) return `rate limited (HTTP 429) after retrying`
  if (status >= 500) return `server error (HTTP ${status}) after retrying`
  return `HTTP ${status}`
}

const giveUp = (
  response: HttpClientResponse.HttpClientResponse,
  description: string
): Effect.Effect<never, HttpClientError.ResponseError> =>
  Effect.fail(
    new HttpClientError.ResponseError({
      request: withoutCredentials(response.request),
      response,
      reason: "StatusCode",
      description
    })
  )

/**
 * The transform: retries transient failures and turns final failures into readable,
 * credential-free `ResponseError`s / `RequestError`s.
 *
 * @since 0.1.0
 * @category combinators
 */
export const transformClient =
  (options: Options) =>
  (client: HttpClient.HttpClient): HttpClient.HttpClient => {
    const retry = options.retry ?? defaultRetry
    const maxDelay = Duration.decode(retry.maxDelay)
    return HttpClient.transform(client, (effect, request) => {
      const attempt = (
        n: number
      ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
        Effect.matchEffect(effect, {
          onFailure: (error) =>
            error._tag === "RequestError" && error.reason === "Transport" && n < retry.maxRetries
              ? Effect.flatMap(backoff(retry, n), Effect.sleep).pipe(Effect.zipRight(attempt(n + 1)))
              : Effect.fail(
                  error._tag === "RequestError"
                    ? new HttpClientError.RequestError({
                        request: withoutCredentials(request),
                        reason: error.reason,
                        cause: error.cause,
                        description: `${error.description ?? "the request failed"} (after ${n + 1} attempt${n === 0 ? "" : "s"})`
                      })
                    : error
                ),
          onSuccess: (response) => {
            const status = response.status
            if (status >= 200 && status < 300) return Effect.succeed(response)
            if (!isRetryableStatus(status) || n >= retry.maxRetries)
              return giveUp(response, describe(status, options))
            return Effect.gen(function* () {
              const now = yield* Clock.currentTimeMillis
              const asked = parseRetryAfter(response.headers["retry-after"], now)
              if (asked !== undefined && Duration.greaterThan(asked, maxDelay))
                return yield* giveUp(
                  response,
                  `${describe(status, options)}: the server asks to wait ${Duration.format(asked)}, longer than the ${Duration.format(maxDelay)} we allow`
                )
              const delay = asked ?? (yield* backoff(retry, n))
              // Drain the body so the connection can be reused.
              yield* Effect.ignore(response.text)
              yield* Effect.sleep(delay)
              return yield* attempt(n + 1)
            })
          }
        })
      return attempt(0)
    })
  }
