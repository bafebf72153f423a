/**
 * The planner's folded state: the input, the task graph with each task's status and result, the
 * context summary and the outcome, plus read-only queries the PlannerWorker builds prompts from.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { Attachment } from "./Plan.js"

/**
 * A task id chosen by the planner (the LLM), e.g. `"1"` or `"setup-db"`.
 *
 * @since 0.1.0
 * @category models
 */
export const TaskId = Schema.NonEmptyString.annotations({ identifier: "TaskId" })

/**
 * @since 0.1.0
 * @category models
 */
export type TaskId = typeof TaskId.Type

/**
 * How a task is executed: `tool_call` and `processing` run as agent threads, `clarification`
 * asks the user a question.
 *
 * @since 0.1.0
 * @category models
 */
export const TaskKind = Schema.Literal("tool_call", "processing", "clarification")

/**
 * @since 0.1.0
 * @category models
 */
export type TaskKind = typeof TaskKind.Type

/**
 * Where a task is in its life. `completed`, `failed` and `skipped` are terminal; `running` and
 * `needs_clarification` mean the task is dispatched and not finished.
 *
 * @since 0.1.0
 * @category models
 */
export const TaskStatus = Schema.Literal(
  "planned",
  "running",
  "completed",
  "failed",
  "skipped",
  "needs_clarification"
)

/**
 * @since 0.1.0
 * @category models
 */
export type TaskStatus = typeof TaskStatus.Type

/**
 * How a planning session ended: every task completed, some failed (or were skipped because a
 * dependency failed), or the session was closed early with a forced `Complete`.
 *
 * @since 0.1.0
 * @category models
 */
export const PlanningOutcome = Schema.Literal("all_done", "some_failed", "cancelled")

/**
 * @since 0.1.0
 * @category models
 */
export type PlanningOutcome = typeof PlanningOutcome.Type

/**
 * One task of the plan as the state holds it.
 *
 * `result` is the answer of a completed task, the error of a failed one or the reason a task was
 * skipped; it is dropped once the task is compacted into the context summary. `question` and
 * `answer` are the latest clarification asked for and given for this task.
 *
 * @since 0.1.0
 * @category models
 */
export interface Task {
  readonly id: TaskId
  readonly description: string
  readonly kind: TaskKind
  readonly dependencies: ReadonlyArray<TaskId>
  readonly status: TaskStatus
  readonly result?: string
  readonly question?: string
  readonly answer?: string
  readonly compacted: boolean
}

/**
 * The lifecycle of a planning session: nothing yet, started and waiting for a plan, executing
 * the plan, completed.
 *
 * @since 0.1.0
 * @category models
 */
export type PlannerPhase = "uninitialized" | "awaiting_plan" | "executing" | "completed"

/**
 * The planner aggregate's state. `tasks` iterates in plan order; `dependents` is the reverse of
 * every task's `dependencies`, built once when the plan is recorded.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlannerState {
  readonly phase: PlannerPhase
  readonly input: string
  readonly attachments: ReadonlyArray<Attachment>
  readonly maxParallel: number
  readonly tasks: ReadonlyMap<TaskId, Task>
  readonly dependents: ReadonlyMap<TaskId, ReadonlyArray<TaskId>>
  readonly contextSummary: string
  readonly outcome?: PlanningOutcome
}

/**
 * The parallel limit used when `Initialize` does not name one.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxParallel = 4

/**
 * The state before any event.
 *
 * @since 0.1.0
 * @category constructors
 */
export const initialPlannerState: PlannerState = {
  phase: "uninitialized",
  input: "",
  attachments: [],
  maxParallel: defaultMaxParallel,
  tasks: new Map(),
  dependents: new Map(),
  contextSummary: ""
}

/**
 * Whether a status is final: the task will not change again.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTerminalStatus = (status: TaskStatus): boolean =>
  status === "completed" || status === "failed" || status === "skipped"

/**
 * Whether a task is dispatched and not finished (it occupies one of the parallel slots).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isInFlightStatus = (status: TaskStatus): boolean =>
  status === "running" || status === "needs_clarification"

/**
 * The tasks in plan order.
 *
 * @since 0.1.0
 * @category getters
 */
export const taskList = (state: PlannerState): ReadonlyArray<Task> => Array.from(state.tasks.values())

/**
 * The tasks dispatched and not yet finished (running or waiting for a clarification), in plan
 * order: what the PlannerWorker owes an executor or the user.
 *
 * @since 0.1.0
 * @category getters
 */
export const inFlightTasks = (state: PlannerState): ReadonlyArray<Task> =>
  taskList(state).filter((task) => isInFlightStatus(task.status))

/**
 * Planned tasks whose dependencies have all completed, in plan order, ignoring the parallel
 * limit.
 *
 * @since 0.1.0
 * @category getters
 */
export const readyTasks = (state: PlannerState): ReadonlyArray<Task> =>
  taskList(state).filter(
    (task) =>
      task.status === "planned" &&
      task.dependencies.every((dependency) => state.tasks.get(dependency)?.status === "completed")
  )

/**
 * The tasks waiting for an answer from the user, each with its question, in plan order.
 *
 * @since 0.1.0
 * @category getters
 */
export const pendingClarifications = (
  state: PlannerState
): ReadonlyArray<{ readonly taskId: TaskId; readonly question: string }> =>
  taskList(state).flatMap((task) =>
    task.status === "needs_clarification" ? [{ taskId: task.id, question: task.question ?? "" }] : []
  )

/**
 * The direct dependencies of a task with their results, for building the task's prompt. A
 * dependency compacted into the context summary has no result here; read `contextSummary`.
 *
 * @since 0.1.0
 * @category getters
 */
export const dependencyResults = (
  state: PlannerState,
  taskId: TaskId
): ReadonlyArray<{
  readonly taskId: TaskId
  readonly description: string
  readonly result?: string
}> => {
  const task = state.tasks.get(taskId)
  if (task === undefined) return []
  return task.dependencies.flatMap((id) => {
    const dependency = state.tasks.get(id)
    if (dependency === undefined) return []
    return [
      dependency.result === undefined
        ? { taskId: id, description: dependency.description }
        : { taskId: id, description: dependency.description, result: dependency.result }
    ]
  })
}
