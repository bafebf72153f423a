/**
 * A plan as the planner (usually an LLM) proposes it, and its validation: ids are unique, every
 * dependency names a task of the plan, and the dependencies form no cycle. A plan that passes can
 * always run to completion, so the planner never gets stuck.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import {
  DependencyCycle,
  DependencyReference,
  DuplicateTaskId,
  EmptyPlan,
  type PlanError,
  UnknownDependency
} from "./PlannerError.js"
import { TaskId, TaskKind } from "./PlannerState.js"

/**
 * Material the user gave with the input: a file path or URL, with its content when it was read.
 *
 * @since 0.1.0
 * @category models
 */
export class Attachment extends Schema.Class<Attachment>("Attachment")({
  source: Schema.String,
  content: Schema.optionalWith(Schema.String, { exact: true })
}) {}

/**
 * One task of a proposed plan. `dependencies` are the ids of tasks that must complete first.
 *
 * @since 0.1.0
 * @category models
 */
export class TaskSpec extends Schema.Class<TaskSpec>("TaskSpec")({
  id: TaskId,
  description: Schema.String,
  kind: TaskKind,
  dependencies: Schema.optionalWith(Schema.Array(TaskId), { default: () => [] })
}) {}

/**
 * The ids that appear more than once, each once, in order of first repetition.
 *
 * @since 0.1.0
 * @category validation
 */
export const duplicateIds = (tasks: ReadonlyArray<TaskSpec>): ReadonlyArray<TaskId> => {
  const seen = new Set<TaskId>()
  const repeated = new Set<TaskId>()
  for (const task of tasks) {
    if (seen.has(task.id)) repeated.add(task.id)
    seen.add(task.id)
  }
  return Array.from(repeated)
}

/**
 * Every dependency that names no task of the plan, in plan order.
 *
 * @since 0.1.0
 * @category validation
 */
export const unknownDependencies = (tasks: ReadonlyArray<TaskSpec>): ReadonlyArray<DependencyReference> => {
  const ids = new Set(tasks.map((task) => task.id))
  return tasks.flatMap((task) =>
    task.dependencies
      .filter((dependency) => !ids.has(dependency))
      .map((dependency) => new DependencyReference({ taskId: task.id, dependency }))
  )
}

/**
 * The first dependency cycle found by a depth-first walk in plan order, as a path that starts and
 * ends with the same id; `undefined` when the graph is acyclic. Dependencies on unknown ids are
 * ignored. Iterative, so long chains cannot overflow the stack.
 *
 * @since 0.1.0
 * @category validation
 */
export const findCycle = (tasks: ReadonlyArray<TaskSpec>): ReadonlyArray<TaskId> | undefined => {
  const dependenciesOf = new Map<TaskId, ReadonlyArray<TaskId>>()
  for (const task of tasks) dependenciesOf.set(task.id, task.dependencies)
  const finished = new Set<TaskId>()
  for (const root of tasks) {
    if (finished.has(root.id)) continue
    // `path` is the chain being explored; `next[i]` is the next dependency of `path[i]` to visit.
    const path: Array<TaskId> = [root.id]
    const next: Array<number> = [0]
    const onPath = new Set<TaskId>([root.id])
    while (path.length > 0) {
      const depth = path.length - 1
      const current = path[depth]
      const index = next[depth]
      if (current === undefined || index === undefined) break
      const dependency = dependenciesOf.get(current)?.[index]
      if (dependency === undefined) {
        finished.add(current)
        onPath.delete(current)
        path.pop()
        next.pop()
        continue
      }
      next[depth] = index + 1
      if (onPath.has(dependency)) return [...path.slice(path.indexOf(dependency)), dependency]
      if (finished.has(dependency) || !dependenciesOf.has(dependency)) continue
      path.push(dependency)
      next.push(0)
      onPath.add(dependency)
    }
  }
  return undefined
}

/**
 * Checks a proposed plan and returns it unchanged when it is valid. The checks run in order:
 * empty plan, duplicate ids, unknown dependencies, cycles.
 *
 * @since 0.1.0
 * @category validation
 */
export const validatePlan = (
  tasks: ReadonlyArray<TaskSpec>
): Effect.Effect<ReadonlyArray<TaskSpec>, PlanError> => {
  if (tasks.length === 0) return Effect.fail(new EmptyPlan())
  const duplicates = duplicateIds(tasks)
  if (duplicates.length > 0) return Effect.fail(new DuplicateTaskId({ taskIds: duplicates }))
  const unknown = unknownDependencies(tasks)
  if (unknown.length > 0) return Effect.fail(new UnknownDependency({ references: unknown }))
  const cycle = findCycle(tasks)
  if (cycle !== undefined) return Effect.fail(new DependencyCycle({ cycle }))
  return Effect.succeed(tasks)
}
