/**
 * Events of the Thread aggregate: the facts a thread's log is made of.
 *
 * Every event is a `Schema.TaggedClass` whose fields encode to JSON; the stored type is
 * `thread.<_tag>`, so a tag is never renamed without a migration.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { JsonValue } from "./JsonValue.js"

/**
 * One tool call requested by the model. `params` are the raw JSON the model produced, not
 * decoded against the tool's schema, so a malformed call survives and can be answered with an
 * error result.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolCall = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  params: JsonValue
})

/**
 * @since 0.1.0
 * @category models
 */
export type ToolCall = typeof ToolCall.Type

/**
 * Tokens spent by one LLM turn (or, in the state, by the whole thread).
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenUsage = Schema.Struct({
  inputTokens: Schema.NonNegativeInt,
  outputTokens: Schema.NonNegativeInt
})

/**
 * @since 0.1.0
 * @category models
 */
export type TokenUsage = typeof TokenUsage.Type

/**
 * Why the model stopped generating; the same literals as `@effect/ai`'s `FinishReason`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FinishReason = Schema.Literal(
  "stop",
  "length",
  "content-filter",
  "tool-calls",
  "error",
  "pause",
  "other",
  "unknown"
)

/**
 * @since 0.1.0
 * @category models
 */
export type FinishReason = typeof FinishReason.Type

/**
 * The thread was started: the task's prompt plus the configuration every later decision needs
 * (the LLM-turn budget and the optional system prompt).
 *
 * @since 0.1.0
 * @category events
 */
export class Prompted extends Schema.TaggedClass<Prompted>()("Prompted", {
  prompt: Schema.String,
  maxSteps: Schema.Int.pipe(Schema.positive()),
  system: Schema.optionalWith(Schema.String, { exact: true })
}) {}

/**
 * The model answered one turn: its text, the tools it asked for (possibly none), the tokens it
 * used and why it stopped. Each `LlmCompleted` counts as one step against `maxSteps`.
 *
 * @since 0.1.0
 * @category events
 */
export class LlmCompleted extends Schema.TaggedClass<LlmCompleted>()("LlmCompleted", {
  text: Schema.String,
  toolCalls: Schema.Array(ToolCall),
  usage: TokenUsage,
  finishReason: FinishReason
}) {}

/**
 * The model ended a turn without calling a tool, so the thread reminds it (as a user message)
 * that it must act, and ultimately call `done`. Recorded as an event so the log holds exactly
 * what the model was told.
 *
 * @since 0.1.0
 * @category events
 */
export class AgentNudged extends Schema.TaggedClass<AgentNudged>()("AgentNudged", {
  message: Schema.String
}) {}

/**
 * A tool call is about to run. Written before the tool starts, so that after a crash a call that
 * was started but has no result is known, reported as interrupted, and never run twice silently.
 *
 * @since 0.1.0
 * @category events
 */
export class ToolStarted extends Schema.TaggedClass<ToolStarted>()("ToolStarted", {
  callId: Schema.String,
  name: Schema.String
}) {}

/**
 * A tool call has its result, which goes back to the model. `isError` marks a failure the model
 * should see (bad arguments, unknown tool, a command that failed, a rejected `done`).
 *
 * @since 0.1.0
 * @category events
 */
export class ToolCompleted extends Schema.TaggedClass<ToolCompleted>()("ToolCompleted", {
  callId: Schema.String,
  name: Schema.String,
  result: JsonValue,
  isError: Schema.Boolean
}) {}

/**
 * A tool call (the `ask_user` tool) needs an answer from the user; the thread waits for it.
 *
 * @since 0.1.0
 * @category events
 */
export class UserQuestionAsked extends Schema.TaggedClass<UserQuestionAsked>()("UserQuestionAsked", {
  callId: Schema.String,
  question: Schema.String
}) {}

/**
 * The user answered the question asked by tool call `callId`; the answer is that call's result.
 *
 * @since 0.1.0
 * @category events
 */
export class UserAnswered extends Schema.TaggedClass<UserAnswered>()("UserAnswered", {
  callId: Schema.String,
  answer: Schema.String
}) {}

/**
 * The thread finished: a `done` call was accepted by the validator.
 *
 * @since 0.1.0
 * @category events
 */
export class ThreadDone extends Schema.TaggedClass<ThreadDone>()("ThreadDone", {
  summary: Schema.String
}) {}

/**
 * The thread failed for good (step budget exhausted or a fatal error reported by a worker).
 *
 * @since 0.1.0
 * @category events
 */
export class ThreadFailed extends Schema.TaggedClass<ThreadFailed>()("ThreadFailed", {
  reason: Schema.String
}) {}

/**
 * The oldest part of the conversation was replaced by a summary, so the prompt fits the model's
 * context: history messages `from` to `from + replacedMessages - 1` (indices into the history as
 * it was before this event) became one summary message. `usage` is what the summary call cost
 * (zero when the worker fell back to a mechanical summary). Not a step: `maxSteps` counts turns.
 *
 * @since 0.1.0
 * @category events
 */
export class ThreadCompacted extends Schema.TaggedClass<ThreadCompacted>()("ThreadCompacted", {
  summary: Schema.String,
  from: Schema.NonNegativeInt,
  replacedMessages: Schema.Int.pipe(Schema.positive()),
  usage: TokenUsage
}) {}

/**
 * Every thread event, as one Schema: the events codec decodes `{ _tag, ...data }` with it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ThreadEvent = Schema.Union(
  Prompted,
  LlmCompleted,
  AgentNudged,
  ToolStarted,
  ToolCompleted,
  UserQuestionAsked,
  UserAnswered,
  ThreadCompacted,
  ThreadDone,
  ThreadFailed
)

/**
 * @since 0.1.0
 * @category models
 */
export type ThreadEvent = typeof ThreadEvent.Type
