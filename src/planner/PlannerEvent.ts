/**
 * The facts the planner records. Every field encodes to JSON through Schema; the stored type is
 * `planner.<_tag>`, so a `_tag` never changes without a migration.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Attachment, TaskSpec } from "./Plan.js"
import { PlanningOutcome, TaskId, TaskKind, TaskStatus } from "./PlannerState.js"

/**
 * A planning session started with the user's input. `maxParallel` is recorded here so that
 * folding the history always gives the same limit, whatever the current configuration says.
 *
 * @since 0.1.0
 * @category events
 */
export class PlanningStarted extends Schema.TaggedClass<PlanningStarted>()("PlanningStarted", {
  input: Schema.String,
  attachments: Schema.Array(Attachment),
  maxParallel: Schema.Int.pipe(Schema.positive())
}) {}

/**
 * The plan was accepted (it passed validation); every task starts `planned`.
 *
 * @since 0.1.0
 * @category events
 */
export class TasksPlanned extends Schema.TaggedClass<TasksPlanned>()("TasksPlanned", {
  tasks: Schema.Array(TaskSpec)
}) {}

/**
 * A task was handed out for execution and is now `running`. `kind` and `description` repeat the
 * plan so a reader of the log sees what was started without folding.
 *
 * @since 0.1.0
 * @category events
 */
export class TaskDispatched extends Schema.TaggedClass<TaskDispatched>()("TaskDispatched", {
  taskId: TaskId,
  kind: TaskKind,
  description: Schema.String
}) {}

/**
 * A task reached a new status: `completed` (result = its answer), `failed` (result = the error)
 * or `skipped` (result = why).
 *
 * @since 0.1.0
 * @category events
 */
export class TaskStatusUpdated extends Schema.TaggedClass<TaskStatusUpdated>()("TaskStatusUpdated", {
  taskId: TaskId,
  status: TaskStatus,
  result: Schema.optionalWith(Schema.String, { exact: true })
}) {}

/**
 * The user is asked a question on behalf of a task, which now waits in `needs_clarification`.
 *
 * @since 0.1.0
 * @category events
 */
export class ClarificationRequested extends Schema.TaggedClass<ClarificationRequested>()(
  "ClarificationRequested",
  { taskId: TaskId, question: Schema.String }
) {}

/**
 * The user answered; the task is `running` again (a `clarification` task is completed with the
 * answer by a `TaskStatusUpdated` that follows).
 *
 * @since 0.1.0
 * @category events
 */
export class ClarificationReceived extends Schema.TaggedClass<ClarificationReceived>()(
  "ClarificationReceived",
  { taskId: TaskId, answer: Schema.String }
) {}

/**
 * The context was compacted: `summary` replaces the context summary and the results of `taskIds`
 * are dropped from the state (the summary now stands for them).
 *
 * @since 0.1.0
 * @category events
 */
export class ContextCompacted extends Schema.TaggedClass<ContextCompacted>()("ContextCompacted", {
  summary: Schema.String,
  taskIds: Schema.Array(TaskId)
}) {}

/**
 * No task can make progress any more. The id lists partition the plan by final status.
 *
 * @since 0.1.0
 * @category events
 */
export class PlanningCompleted extends Schema.TaggedClass<PlanningCompleted>()("PlanningCompleted", {
  outcome: PlanningOutcome,
  completed: Schema.Array(TaskId),
  failed: Schema.Array(TaskId),
  skipped: Schema.Array(TaskId),
  reason: Schema.optionalWith(Schema.String, { exact: true })
}) {}

/**
 * Every planner event, as a Schema for the events codec.
 *
 * @since 0.1.0
 * @category events
 */
export const PlannerEvent = Schema.Union(
  PlanningStarted,
  TasksPlanned,
  TaskDispatched,
  TaskStatusUpdated,
  ClarificationRequested,
  ClarificationReceived,
  ContextCompacted,
  PlanningCompleted
)

/**
 * @since 0.1.0
 * @category events
 */
export type PlannerEvent = typeof PlannerEvent.Type
