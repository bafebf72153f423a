/**
 * dabgent's metrics, as Effect `Metric`s: events appended, model latency and tokens, tool
 * time. They are always recorded (a few counters in memory); `Telemetry.layer` exports them.
 *
 * Also the small wrappers the workers put around a model call and a tool run, so each is a
 * span with its figures as attributes and its metrics updated in one place.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as Option from "effect/Option"
import * as Attributes from "./Attributes.js"

/** 1 ms to about 9 minutes, doubling. */
const millisecondBoundaries = MetricBoundaries.exponential({ start: 1, factor: 2, count: 20 })

/**
 * Events appended to the event store, tagged with their family (`thread`, `planner`, ...).
 *
 * @since 0.1.0
 * @category metrics
 */
export const eventsAppended = Metric.counter("dabgent.events.appended", {
  description: "Events appended to the event store",
  incremental: true
})

/**
 * The time one model call took, in milliseconds, tagged with its purpose and outcome.
 *
 * @since 0.1.0
 * @category metrics
 */
export const llmLatency: Metric.Metric.Histogram<number> = Metric.histogram(
  "dabgent.llm.latency",
  millisecondBoundaries,
  "Time of one LLM call in milliseconds"
).pipe(Metric.tagged("unit", "ms"))

/**
 * Tokens the model read and wrote, tagged `gen_ai.token.type` = `input` or `output`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const llmTokens = Metric.counter("dabgent.llm.tokens", {
  description: "LLM tokens, by gen_ai.token.type (input or output)",
  incremental: true
})

/**
 * The time one tool run took, in milliseconds, tagged with the tool and its outcome.
 *
 * @since 0.1.0
 * @category metrics
 */
export const toolDuration: Metric.Metric.Histogram<number> = Metric.histogram(
  "dabgent.tool.duration",
  millisecondBoundaries,
  "Time of one tool run in milliseconds"
).pipe(Metric.tagged("unit", "ms"))

/**
 * Counts `count` appended events of `family`.
 *
 * @since 0.1.0
 * @category recording
 */
export const countAppended = (family: string, count: number): Effect.Effect<void> =>
  count === 0
    ? Effect.void
    : Metric.incrementBy(Metric.tagged(eventsAppended, "dabgent.event.family", family), count)

/**
 * What {@link observeLlmCall} reads from a model response (the shape of `@effect/ai`'s
 * `GenerateTextResponse`).
 *
 * @since 0.1.0
 * @category models
 */
export interface LlmResponse {
  readonly usage: { readonly inputTokens: number | undefined; readonly outputTokens: number | undefined }
  readonly finishReason: string
  readonly toolCalls: ReadonlyArray<unknown>
  readonly content: ReadonlyArray<{ readonly type: string }>
}

const modelOf = (response: LlmResponse): string | undefined => {
  for (const part of response.content) {
    if (part.type !== "response-metadata" || !("modelId" in part)) continue
    // `@effect/ai` decodes it as an Option.
    const id = part.modelId
    if (typeof id === "string") return id
    if (Option.isOption(id) && Option.isSome(id) && typeof id.value === "string") return id.value
  }
  return undefined
}

/**
 * Runs a model call as span `llm.generate`: its purpose and prompt size, the model that
 * answered, the tokens and the finish reason as attributes (never the prompt's text); records
 * the latency and the tokens.
 *
 * @since 0.1.0
 * @category recording
 */
export const observeLlmCall =
  (purpose: string, prompt: { readonly messages: number }) =>
  <A extends LlmResponse, E, R>(call: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (started) =>
      call.pipe(
        Effect.tap((response) => {
          const input = response.usage.inputTokens ?? 0
          const output = response.usage.outputTokens ?? 0
          const model = modelOf(response)
          return Effect.all(
            [
              Effect.annotateCurrentSpan({
                [Attributes.llm.inputTokens]: input,
                [Attributes.llm.outputTokens]: output,
                [Attributes.llm.finishReason]: response.finishReason,
                [Attributes.llm.toolCalls]: response.toolCalls.length,
                ...(model === undefined ? {} : { [Attributes.llm.model]: model })
              }),
              Metric.incrementBy(Metric.tagged(llmTokens, "gen_ai.token.type", "input"), input),
              Metric.incrementBy(Metric.tagged(llmTokens, "gen_ai.token.type", "output"), output)
            ],
            { discard: true }
          )
        }),
        Effect.onExit((exit) =>
          Effect.flatMap(Clock.currentTimeMillis, (ended) =>
            Metric.update(
              llmLatency.pipe(
                Metric.tagged(Attributes.llm.purpose, purpose),
                Metric.tagged("outcome", Exit.isSuccess(exit) ? "ok" : "error")
              ),
              ended - started
            )
          )
        ),
        Effect.withSpan("llm.generate", {
          attributes: { [Attributes.llm.purpose]: purpose, [Attributes.llm.promptMessages]: prompt.messages }
        })
      )
    )

/**
 * Measures a tool run: its duration and whether it failed go on the current span and into
 * {@link toolDuration}, tagged with `tool` (a known tool's name; callers map anything else to
 * one value so a model cannot invent tag values).
 *
 * @since 0.1.0
 * @category recording
 */
export const observeToolRun =
  (tool: string) =>
  <A extends { readonly isError: boolean }, E, R>(run: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (started) =>
      Effect.tap(run, (outcome) =>
        Effect.flatMap(Clock.currentTimeMillis, (ended) =>
          Effect.zipRight(
            Effect.annotateCurrentSpan({
              [Attributes.tool.isError]: outcome.isError,
              [Attributes.tool.durationMs]: ended - started
            }),
            Metric.update(
              toolDuration.pipe(
                Metric.tagged(Attributes.tool.name, tool),
                Metric.tagged("outcome", outcome.isError ? "error" : "ok")
              ),
              ended - started
            )
          )
        )
      )
    )
