/**
 * Commands of the Thread aggregate: what workers, the CLI and the planner ask a thread to do.
 *
 * Commands carry everything `process` needs (LLM output, tool results, user answers), so the
 * decision itself reads no clock, file or network.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { JsonValue } from "./JsonValue.js"
import { FinishReason, TokenUsage, ToolCall } from "./ThreadEvent.js"

/**
 * Start an idle thread on a prompt, with its LLM-turn budget and optional system prompt.
 *
 * @since 0.1.0
 * @category commands
 */
export class Prompt extends Schema.TaggedClass<Prompt>()("Prompt", {
  prompt: Schema.String,
  maxSteps: Schema.Int.pipe(Schema.positive()),
  system: Schema.optionalWith(Schema.String, { exact: true })
}) {}

/**
 * Record the model's answer to the current turn (sent by the LLM worker in `Agent` state).
 *
 * @since 0.1.0
 * @category commands
 */
export class CompleteLlm extends Schema.TaggedClass<CompleteLlm>()("CompleteLlm", {
  text: Schema.String,
  toolCalls: Schema.Array(ToolCall),
  usage: TokenUsage,
  finishReason: FinishReason
}) {}

/**
 * Mark a pending tool call as started, before the tool worker runs it.
 *
 * @since 0.1.0
 * @category commands
 */
export class StartTool extends Schema.TaggedClass<StartTool>()("StartTool", {
  callId: Schema.String
}) {}

/**
 * Record a tool call's result. A call may be completed without being started (a call the tool
 * worker rejects without running it, e.g. an unknown tool or invalid arguments).
 *
 * @since 0.1.0
 * @category commands
 */
export class CompleteTool extends Schema.TaggedClass<CompleteTool>()("CompleteTool", {
  callId: Schema.String,
  result: JsonValue,
  isError: Schema.Boolean
}) {}

/**
 * Report a started call that has no result (its worker stopped while it ran) as interrupted:
 * the model gets an error result instead of the tool being run a second time.
 *
 * @since 0.1.0
 * @category commands
 */
export class InterruptTool extends Schema.TaggedClass<InterruptTool>()("InterruptTool", {
  callId: Schema.String
}) {}

/**
 * Turn a pending tool call (the `ask_user` tool) into a question for the user.
 *
 * @since 0.1.0
 * @category commands
 */
export class AskUser extends Schema.TaggedClass<AskUser>()("AskUser", {
  callId: Schema.String,
  question: Schema.String
}) {}

/**
 * Answer the oldest open question of a thread in `UserWait`.
 *
 * @since 0.1.0
 * @category commands
 */
export class Answer extends Schema.TaggedClass<Answer>()("Answer", {
  text: Schema.String
}) {}

/**
 * Replace history messages `from` to `from + replacedMessages - 1` by `summary` (sent by the LLM
 * worker between turns, when the prompt has outgrown its token budget). The range must hold whole
 * turns: it may not separate an assistant turn from its tool results.
 *
 * @since 0.1.0
 * @category commands
 */
export class Compact extends Schema.TaggedClass<Compact>()("Compact", {
  summary: Schema.String,
  from: Schema.NonNegativeInt,
  replacedMessages: Schema.Int.pipe(Schema.positive()),
  usage: TokenUsage
}) {}

/**
 * End a running thread with a fatal error.
 *
 * @since 0.1.0
 * @category commands
 */
export class Fail extends Schema.TaggedClass<Fail>()("Fail", {
  reason: Schema.String
}) {}

/**
 * Every thread command, as one Schema.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ThreadCommand = Schema.Union(
  Prompt,
  CompleteLlm,
  StartTool,
  CompleteTool,
  InterruptTool,
  AskUser,
  Answer,
  Compact,
  Fail
)

/**
 * @since 0.1.0
 * @category models
 */
export type ThreadCommand = typeof ThreadCommand.Type
