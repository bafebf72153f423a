/**
 * Where the planner and the thread system meet: a dispatched task becomes a thread prompt on
 * aggregate `<session>/task-<id>`, and a finished thread becomes the planner's `TaskCompleted`
 * or `TaskFailed`.
 *
 * @since 0.1.0
 */
import type { ExecutorEvent } from "../planner/PlannerCommand.js"
import { TaskCompleted, TaskFailed } from "../planner/PlannerCommand.js"
import { dependencyResults, type PlannerState, type Task } from "../planner/PlannerState.js"
import type { ThreadState } from "../thread/ThreadState.js"

const taskPrefix = "/task-"

/**
 * The thread aggregate of a task.
 *
 * @since 0.1.0
 * @category naming
 */
export const taskAggregateId = (sessionId: string, taskId: string): string =>
  `${sessionId}${taskPrefix}${taskId}`

/**
 * The task a thread aggregate runs, if it is a task thread of `sessionId`.
 *
 * @since 0.1.0
 * @category naming
 */
export const taskIdOf = (sessionId: string, aggregateId: string): string | undefined =>
  aggregateId.startsWith(`${sessionId}${taskPrefix}`)
    ? aggregateId.slice(sessionId.length + taskPrefix.length)
    : undefined

/**
 * Whether a task runs as a thread (`clarification` tasks ask the user instead).
 *
 * @since 0.1.0
 * @category predicates
 */
export const runsAsThread = (task: Task): boolean => task.kind === "tool_call" || task.kind === "processing"

/**
 * The prompt of a task's thread: the task, the overall goal, and what its dependencies produced.
 *
 * @since 0.1.0
 * @category prompts
 */
export const taskPrompt = (state: PlannerState, task: Task): string => {
  const parts = [
    `You are working on one task of a larger plan.`,
    `Overall goal: ${state.input}`,
    `Your task (${task.id}, ${task.kind === "tool_call" ? "use the tools to do it" : "work it out and record the result"}): ${task.description}`
  ]
  const done = dependencyResults(state, task.id)
  if (done.length > 0) {
    parts.push(
      "Results of the tasks this one depends on:\n" +
        done.map((d) => `- ${d.taskId} (${d.description}): ${d.result ?? "(no result recorded)"}`).join("\n")
    )
  }
  if (state.contextSummary !== "") parts.push(`Summary of earlier work: ${state.contextSummary}`)
  if (task.answer !== undefined) parts.push(`The user answered a question about this task: ${task.answer}`)
  parts.push("When the task is complete, call `done` with a summary of the result that later tasks can use.")
  return parts.join("\n\n")
}

/**
 * What a finished thread reports to the planner; `undefined` while it is still working.
 *
 * @since 0.1.0
 * @category bridging
 */
export const executorEvent = (taskId: string, thread: ThreadState): ExecutorEvent | undefined =>
  thread.status === "Done"
    ? new TaskCompleted({ taskId, result: thread.summary })
    : thread.status === "Failed"
      ? new TaskFailed({ taskId, error: thread.reason })
      : undefined
