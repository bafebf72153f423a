/**
 * Why a thread rejected a command. Each error carries what the caller needs to act on it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { ThreadStatus } from "./ThreadState.js"

/**
 * The command is not valid in the thread's current state (e.g. `CompleteLlm` while tools run).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidTransition extends Schema.TaggedError<InvalidTransition>()("InvalidTransition", {
  state: ThreadStatus,
  command: Schema.String
}) {}

/**
 * The thread is `Done` or `Failed`; it accepts no more commands.
 *
 * @since 0.1.0
 * @category errors
 */
export class ThreadFinished extends Schema.TaggedError<ThreadFinished>()("ThreadFinished", {
  state: Schema.Literal("Done", "Failed"),
  command: Schema.String
}) {}

/**
 * No call with this id is pending in the current tool batch.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownToolCall extends Schema.TaggedError<UnknownToolCall>()("UnknownToolCall", {
  callId: Schema.String
}) {}

/**
 * The call was already started; after a crash it must be interrupted, not started again.
 *
 * @since 0.1.0
 * @category errors
 */
export class ToolCallAlreadyStarted extends Schema.TaggedError<ToolCallAlreadyStarted>()(
  "ToolCallAlreadyStarted",
  { callId: Schema.String }
) {}

/**
 * The call already has a result.
 *
 * @since 0.1.0
 * @category errors
 */
export class ToolCallAlreadyCompleted extends Schema.TaggedError<ToolCallAlreadyCompleted>()(
  "ToolCallAlreadyCompleted",
  { callId: Schema.String }
) {}

/**
 * Only a started call can be interrupted.
 *
 * @since 0.1.0
 * @category errors
 */
export class ToolCallNotStarted extends Schema.TaggedError<ToolCallNotStarted>()("ToolCallNotStarted", {
  callId: Schema.String
}) {}

/**
 * The call is waiting for the user's answer; only `Answer` (or `Fail`) can settle it.
 *
 * @since 0.1.0
 * @category errors
 */
export class ToolCallAwaitingUser extends Schema.TaggedError<ToolCallAwaitingUser>()("ToolCallAwaitingUser", {
  callId: Schema.String
}) {}

/**
 * The model's turn used the same tool call id twice, so results could not be told apart.
 *
 * @since 0.1.0
 * @category errors
 */
export class DuplicateToolCallId extends Schema.TaggedError<DuplicateToolCallId>()("DuplicateToolCallId", {
  callId: Schema.String
}) {}

/**
 * A `Compact` range that does not fit the history: past its end, or cutting between an assistant
 * turn and its tool results (`reason` says which).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCompaction extends Schema.TaggedError<InvalidCompaction>()("InvalidCompaction", {
  from: Schema.Number,
  replacedMessages: Schema.Number,
  historyLength: Schema.Number,
  reason: Schema.String
}) {}

/**
 * Every way a thread command can be rejected, as one Schema.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ThreadError = Schema.Union(
  InvalidTransition,
  ThreadFinished,
  UnknownToolCall,
  ToolCallAlreadyStarted,
  ToolCallAlreadyCompleted,
  ToolCallNotStarted,
  ToolCallAwaitingUser,
  DuplicateToolCallId,
  InvalidCompaction
)

/**
 * @since 0.1.0
 * @category errors
 */
export type ThreadError = typeof ThreadError.Type
