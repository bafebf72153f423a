/**
 * Why the planner rejects a command. Each error carries the ids a caller needs to act on it
 * (re-plan, ignore a late executor report, wait for open tasks).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { PlanningOutcome, TaskId, TaskStatus } from "./PlannerState.js"

const quote = (ids: ReadonlyArray<string>): string => ids.map((id) => JSON.stringify(id)).join(", ")

/**
 * A plan with no task.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmptyPlan extends Schema.TaggedError<EmptyPlan>()("EmptyPlan", {}) {
  override get message(): string {
    return "the plan has no task"
  }
}

/**
 * Several tasks of a plan share an id; `taskIds` lists each repeated id once.
 *
 * @since 0.1.0
 * @category errors
 */
export class DuplicateTaskId extends Schema.TaggedError<DuplicateTaskId>()("DuplicateTaskId", {
  taskIds: Schema.Array(TaskId)
}) {
  override get message(): string {
    return `the plan repeats the task id(s) ${quote(this.taskIds)}`
  }
}

/**
 * A task depends on an id that is not in the plan.
 *
 * @since 0.1.0
 * @category models
 */
export class DependencyReference extends Schema.Class<DependencyReference>("DependencyReference")({
  taskId: TaskId,
  dependency: Schema.String
}) {}

/**
 * Tasks depend on ids that are not in the plan; `references` names every such edge in plan order.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownDependency extends Schema.TaggedError<UnknownDependency>()("UnknownDependency", {
  references: Schema.Array(DependencyReference)
}) {
  override get message(): string {
    const edges = this.references.map(
      (reference) => `${JSON.stringify(reference.taskId)} -> ${JSON.stringify(reference.dependency)}`
    )
    return `the plan depends on unknown task(s): ${edges.join(", ")}`
  }
}

/**
 * The dependencies of a plan form a cycle. `cycle` is the path, starting and ending with the same
 * id (`["a", "b", "a"]`; a task depending on itself gives `["a", "a"]`).
 *
 * @since 0.1.0
 * @category errors
 */
export class DependencyCycle extends Schema.TaggedError<DependencyCycle>()("DependencyCycle", {
  cycle: Schema.Array(TaskId)
}) {
  override get message(): string {
    return `the plan has a dependency cycle: ${this.cycle.map((id) => JSON.stringify(id)).join(" -> ")}`
  }
}

/**
 * A command that needs a started planning session arrived first.
 *
 * @since 0.1.0
 * @category errors
 */
export class PlannerNotInitialized extends Schema.TaggedError<PlannerNotInitialized>()(
  "PlannerNotInitialized",
  {}
) {
  override get message(): string {
    return "the planner has not been initialized"
  }
}

/**
 * `Initialize` arrived for a session that is already started.
 *
 * @since 0.1.0
 * @category errors
 */
export class AlreadyInitialized extends Schema.TaggedError<AlreadyInitialized>()("AlreadyInitialized", {}) {
  override get message(): string {
    return "the planner is already initialized"
  }
}

/**
 * A command about tasks arrived before a plan was submitted.
 *
 * @since 0.1.0
 * @category errors
 */
export class PlanNotSubmitted extends Schema.TaggedError<PlanNotSubmitted>()("PlanNotSubmitted", {}) {
  override get message(): string {
    return "no plan has been submitted yet"
  }
}

/**
 * `SubmitPlan` arrived when the session already has a plan.
 *
 * @since 0.1.0
 * @category errors
 */
export class PlanAlreadySubmitted extends Schema.TaggedError<PlanAlreadySubmitted>()(
  "PlanAlreadySubmitted",
  {}
) {
  override get message(): string {
    return "a plan has already been submitted"
  }
}

/**
 * A command names a task that is not in the plan.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownTask extends Schema.TaggedError<UnknownTask>()("UnknownTask", {
  taskId: Schema.String
}) {
  override get message(): string {
    return `unknown task ${JSON.stringify(this.taskId)}`
  }
}

/**
 * A command does not fit the task's status, e.g. a completion reported for a task that is not
 * running. `expected` lists the statuses the command accepts.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedTaskStatus extends Schema.TaggedError<UnexpectedTaskStatus>()("UnexpectedTaskStatus", {
  taskId: TaskId,
  status: TaskStatus,
  expected: Schema.Array(TaskStatus)
}) {
  override get message(): string {
    return `task ${JSON.stringify(this.taskId)} is ${this.status}, expected ${this.expected.join(" or ")}`
  }
}

/**
 * A command arrived after the planning session completed.
 *
 * @since 0.1.0
 * @category errors
 */
export class PlanningAlreadyCompleted extends Schema.TaggedError<PlanningAlreadyCompleted>()(
  "PlanningAlreadyCompleted",
  { outcome: PlanningOutcome }
) {
  override get message(): string {
    return `planning already completed (${this.outcome})`
  }
}

/**
 * `Complete` without `force` while tasks can still make progress; `taskIds` are the open tasks.
 *
 * @since 0.1.0
 * @category errors
 */
export class TasksStillOpen extends Schema.TaggedError<TasksStillOpen>()("TasksStillOpen", {
  taskIds: Schema.Array(TaskId)
}) {
  override get message(): string {
    return `tasks are still open: ${quote(this.taskIds)}`
  }
}

/**
 * Why a plan is invalid.
 *
 * @since 0.1.0
 * @category errors
 */
export type PlanError = EmptyPlan | DuplicateTaskId | UnknownDependency | DependencyCycle

/**
 * Every error of the planner, as a Schema (errors can be reported to a model or stored).
 *
 * @since 0.1.0
 * @category errors
 */
export const PlannerError = Schema.Union(
  EmptyPlan,
  DuplicateTaskId,
  UnknownDependency,
  DependencyCycle,
  PlannerNotInitialized,
  AlreadyInitialized,
  PlanNotSubmitted,
  PlanAlreadySubmitted,
  UnknownTask,
  UnexpectedTaskStatus,
  PlanningAlreadyCompleted,
  TasksStillOpen
)

/**
 * @since 0.1.0
 * @category errors
 */
export type PlannerError = typeof PlannerError.Type
