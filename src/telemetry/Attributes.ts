/**
 * The span attribute names dabgent uses, and the annotation that ties every span of an effect
 * to a session. Kept apart from the exporter so instrumented code loads nothing of it.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"

/**
 * The session a span belongs to: what a trace backend filters on.
 *
 * @since 0.1.0
 * @category attributes
 */
export const sessionId = "dabgent.session_id"

/**
 * The aggregate (thread, task thread, planner) a span works on.
 *
 * @since 0.1.0
 * @category attributes
 */
export const aggregateId = "dabgent.aggregate_id"

/**
 * Attributes of tool runs.
 *
 * @since 0.1.0
 * @category attributes
 */
export const tool = {
  name: "dabgent.tool.name",
  callId: "dabgent.tool.call_id",
  exitCode: "dabgent.tool.exit_code",
  timedOut: "dabgent.tool.timed_out",
  isError: "dabgent.tool.is_error",
  durationMs: "dabgent.tool.duration_ms"
} as const

/**
 * Attributes of model calls, after the OpenTelemetry GenAI conventions where one exists.
 *
 * @since 0.1.0
 * @category attributes
 */
export const llm = {
  purpose: "dabgent.llm.purpose",
  model: "gen_ai.response.model",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  finishReason: "gen_ai.response.finish_reason",
  promptMessages: "dabgent.llm.prompt_messages",
  toolCalls: "dabgent.llm.tool_calls"
} as const

/**
 * Attributes of appends.
 *
 * @since 0.1.0
 * @category attributes
 */
export const events = {
  family: "dabgent.event.family",
  count: "dabgent.event.count",
  version: "dabgent.version"
} as const

/**
 * Puts the session (and the aggregate, when given) on every span `effect` creates, including
 * those of the libraries it calls (the model client, the HTTP client).
 *
 * @since 0.1.0
 * @category annotations
 */
export const withSession =
  (session: string, aggregate?: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.annotateSpans(
      effect,
      aggregate === undefined ? { [sessionId]: session } : { [sessionId]: session, [aggregateId]: aggregate }
    )
