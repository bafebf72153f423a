/**
 * What can be asked of the planner. Everything the decision needs arrives inside the command: the
 * plan proposed by the model, executor reports, the user's answers, a compacted summary.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Attachment, TaskSpec } from "./Plan.js"
import { defaultMaxParallel, TaskId } from "./PlannerState.js"

/**
 * Starts a planning session with the user's input. `maxParallel` bounds how many tasks are in
 * flight at once (default {@link defaultMaxParallel}).
 *
 * @since 0.1.0
 * @category commands
 */
export class Initialize extends Schema.TaggedClass<Initialize>()("Initialize", {
  input: Schema.String,
  attachments: Schema.optionalWith(Schema.Array(Attachment), { default: () => [] }),
  maxParallel: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => defaultMaxParallel })
}) {}

/**
 * Records the plan (validated first) and dispatches every task that is ready.
 *
 * @since 0.1.0
 * @category commands
 */
export class SubmitPlan extends Schema.TaggedClass<SubmitPlan>()("SubmitPlan", {
  tasks: Schema.Array(TaskSpec)
}) {}

/**
 * An executor (a task's thread) finished the task with this result.
 *
 * @since 0.1.0
 * @category executor events
 */
export class TaskCompleted extends Schema.TaggedClass<TaskCompleted>()("TaskCompleted", {
  taskId: TaskId,
  result: Schema.String
}) {}

/**
 * An executor gave up on the task.
 *
 * @since 0.1.0
 * @category executor events
 */
export class TaskFailed extends Schema.TaggedClass<TaskFailed>()("TaskFailed", {
  taskId: TaskId,
  error: Schema.String
}) {}

/**
 * A running task needs the user to answer a question before it can go on.
 *
 * @since 0.1.0
 * @category executor events
 */
export class NeedsClarification extends Schema.TaggedClass<NeedsClarification>()("NeedsClarification", {
  taskId: TaskId,
  question: Schema.String
}) {}

/**
 * The user answered the question of a task waiting in `needs_clarification`.
 *
 * @since 0.1.0
 * @category executor events
 */
export class ClarificationProvided extends Schema.TaggedClass<ClarificationProvided>()(
  "ClarificationProvided",
  { taskId: TaskId, answer: Schema.String }
) {}

/**
 * A report from outside the planner about one task.
 *
 * @since 0.1.0
 * @category executor events
 */
export const ExecutorEvent = Schema.Union(
  TaskCompleted,
  TaskFailed,
  NeedsClarification,
  ClarificationProvided
)

/**
 * @since 0.1.0
 * @category executor events
 */
export type ExecutorEvent = typeof ExecutorEvent.Type

/**
 * Feeds an executor report to the planner, which records it, skips the dependents of a failure,
 * dispatches what became ready and completes the planning when nothing is left.
 *
 * @since 0.1.0
 * @category commands
 */
export class HandleExecutorEvent extends Schema.TaggedClass<HandleExecutorEvent>()("HandleExecutorEvent", {
  event: ExecutorEvent
}) {}

/**
 * Dispatches whatever is ready and fits in the parallel limit; does nothing when nothing is.
 *
 * @since 0.1.0
 * @category commands
 */
export class Continue extends Schema.TaggedClass<Continue>()("Continue", {}) {}

/**
 * Replaces the context summary with `summary` (written by the model) and drops the results of the
 * finished tasks `taskIds`, which the summary now covers.
 *
 * @since 0.1.0
 * @category commands
 */
export class CompactContext extends Schema.TaggedClass<CompactContext>()("CompactContext", {
  summary: Schema.String,
  taskIds: Schema.optionalWith(Schema.Array(TaskId), { default: () => [] })
}) {}

/**
 * Closes the planning session. Without `force` it is accepted only when no task is open (and
 * does nothing if the session already completed); with `force`, every open task is skipped and
 * the session completes as `cancelled`, with `reason` recorded.
 *
 * @since 0.1.0
 * @category commands
 */
export class Complete extends Schema.TaggedClass<Complete>()("Complete", {
  force: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  reason: Schema.optionalWith(Schema.String, { exact: true })
}) {}

/**
 * Every planner command, as a Schema.
 *
 * @since 0.1.0
 * @category commands
 */
export const PlannerCommand = Schema.Union(
  Initialize,
  SubmitPlan,
  HandleExecutorEvent,
  Continue,
  CompactContext,
  Complete
)

/**
 * @since 0.1.0
 * @category commands
 */
export type PlannerCommand = typeof PlannerCommand.Type
