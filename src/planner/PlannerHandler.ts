/**
 * The planner aggregate: a pure decider over a task graph.
 *
 * Every command that changes a task is followed, in the same batch of events, by what the change
 * makes due: the dependents of a failed task are skipped (transitively), every task whose
 * dependencies completed is dispatched up to the parallel limit, and `PlanningCompleted` is
 * recorded as soon as every task is completed, failed or skipped. So a worker never has to send
 * `Continue` or `Complete` for the plan to advance; both exist for recovery and for closing a
 * session early.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Handler from "../Handler.js"
import { validatePlan } from "./Plan.js"
import {
  type ClarificationProvided,
  type CompactContext,
  type Complete,
  type ExecutorEvent,
  type Initialize,
  type PlannerCommand,
  type SubmitPlan
} from "./PlannerCommand.js"
import {
  PlannerNotInitialized,
  AlreadyInitialized,
  PlanAlreadySubmitted,
  type PlannerError,
  PlanningAlreadyCompleted,
  PlanNotSubmitted,
  TasksStillOpen,
  UnexpectedTaskStatus,
  UnknownTask
} from "./PlannerError.js"
import {
  ClarificationReceived,
  ClarificationRequested,
  ContextCompacted,
  type PlannerEvent,
  PlanningCompleted,
  PlanningStarted,
  TaskDispatched,
  TasksPlanned,
  TaskStatusUpdated
} from "./PlannerEvent.js"
import {
  initialPlannerState,
  isInFlightStatus,
  isTerminalStatus,
  type PlannerState,
  readyTasks,
  type Task,
  type TaskId,
  taskList,
  type TaskStatus
} from "./PlannerState.js"

type Decision = Effect.Effect<ReadonlyArray<PlannerEvent>, PlannerError>

// ---------------------------------------------------------------------------------------------
// apply
// ---------------------------------------------------------------------------------------------

const withoutResult = (task: Task): Task => {
  const { result: _result, ...rest } = task
  return rest
}

const withoutAnswer = (task: Task): Task => {
  const { answer: _answer, ...rest } = task
  return rest
}

const updateTask = (state: PlannerState, taskId: TaskId, update: (task: Task) => Task): PlannerState => {
  const task = state.tasks.get(taskId)
  if (task === undefined) return state
  const tasks = new Map(state.tasks)
  tasks.set(taskId, update(task))
  return { ...state, tasks }
}

const planTasks = (state: PlannerState, event: TasksPlanned): PlannerState => {
  const tasks = new Map<TaskId, Task>()
  const dependents = new Map<TaskId, Array<TaskId>>()
  for (const spec of event.tasks) {
    tasks.set(spec.id, {
      id: spec.id,
      description: spec.description,
      kind: spec.kind,
      dependencies: spec.dependencies,
      status: "planned",
      compacted: false
    })
    for (const dependency of spec.dependencies) {
      const list = dependents.get(dependency)
      if (list === undefined) dependents.set(dependency, [spec.id])
      else list.push(spec.id)
    }
  }
  return { ...state, phase: "executing", tasks, dependents }
}

const compact = (state: PlannerState, event: ContextCompacted): PlannerState => {
  const tasks = new Map(state.tasks)
  for (const taskId of event.taskIds) {
    const task = tasks.get(taskId)
    if (task !== undefined) tasks.set(taskId, { ...withoutResult(task), compacted: true })
  }
  return { ...state, contextSummary: event.summary, tasks }
}

const apply = (state: PlannerState, event: PlannerEvent): PlannerState => {
  switch (event._tag) {
    case "PlanningStarted":
      return {
        ...state,
        phase: "awaiting_plan",
        input: event.input,
        attachments: event.attachments,
        maxParallel: event.maxParallel
      }
    case "TasksPlanned":
      return planTasks(state, event)
    case "TaskDispatched":
      return updateTask(state, event.taskId, (task) => ({ ...task, status: "running" }))
    case "TaskStatusUpdated":
      return updateTask(state, event.taskId, (task) =>
        event.result === undefined
          ? { ...withoutResult(task), status: event.status }
          : { ...task, status: event.status, result: event.result }
      )
    case "ClarificationRequested":
      return updateTask(state, event.taskId, (task) => ({
        ...withoutAnswer(task),
        status: "needs_clarification",
        question: event.question
      }))
    case "ClarificationReceived":
      return updateTask(state, event.taskId, (task) => ({ ...task, status: "running", answer: event.answer }))
    case "ContextCompacted":
      return compact(state, event)
    case "PlanningCompleted":
      return { ...state, phase: "completed", outcome: event.outcome }
  }
}

const applyAll = (state: PlannerState, events: ReadonlyArray<PlannerEvent>): PlannerState =>
  events.reduce(apply, state)

// ---------------------------------------------------------------------------------------------
// follow-ups: what a state makes due
// ---------------------------------------------------------------------------------------------

const dispatch = (task: Task): ReadonlyArray<PlannerEvent> => {
  const dispatched = new TaskDispatched({ taskId: task.id, kind: task.kind, description: task.description })
  return task.kind === "clarification"
    ? [dispatched, new ClarificationRequested({ taskId: task.id, question: task.description })]
    : [dispatched]
}

const completion = (state: PlannerState, reason?: string): PlanningCompleted => {
  const tasks = taskList(state)
  const ids = (status: TaskStatus) => tasks.filter((task) => task.status === status).map((task) => task.id)
  const completed = ids("completed")
  const failed = ids("failed")
  const skipped = ids("skipped")
  const outcome =
    reason !== undefined ? "cancelled" : completed.length === tasks.length ? "all_done" : "some_failed"
  return new PlanningCompleted(
    reason === undefined
      ? { outcome, completed, failed, skipped }
      : { outcome, completed, failed, skipped, reason }
  )
}

/** Dispatches what is ready within the limit, or completes the planning when nothing is open. */
const followUps = (state: PlannerState): ReadonlyArray<PlannerEvent> => {
  if (state.phase !== "executing") return []
  const tasks = taskList(state)
  if (tasks.every((task) => isTerminalStatus(task.status))) return [completion(state)]
  const inFlight = tasks.filter((task) => isInFlightStatus(task.status)).length
  const slots = Math.max(0, state.maxParallel - inFlight)
  return readyTasks(state).slice(0, slots).flatMap(dispatch)
}

/** The given events followed by what they make due. */
const settle = (state: PlannerState, events: ReadonlyArray<PlannerEvent>): Decision =>
  Effect.succeed([...events, ...followUps(applyAll(state, events))])

/** Every planned task that (transitively) depends on `failedId`, skipped, in plan order. */
const skipDependents = (state: PlannerState, failedId: TaskId): ReadonlyArray<PlannerEvent> => {
  const reached = new Set<TaskId>()
  const queue: Array<TaskId> = [failedId]
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const dependent of state.dependents.get(next) ?? []) {
      if (reached.has(dependent)) continue
      reached.add(dependent)
      queue.push(dependent)
    }
  }
  const result = `skipped: dependency ${JSON.stringify(failedId)} failed`
  return taskList(state)
    .filter((task) => task.status === "planned" && reached.has(task.id))
    .map((task) => new TaskStatusUpdated({ taskId: task.id, status: "skipped", result }))
}

// ---------------------------------------------------------------------------------------------
// process
// ---------------------------------------------------------------------------------------------

/** Fails unless the session is executing a plan. */
const requirePlan = (state: PlannerState): Effect.Effect<void, PlannerError> => {
  switch (state.phase) {
    case "uninitialized":
      return Effect.fail(new PlannerNotInitialized())
    case "awaiting_plan":
      return Effect.fail(new PlanNotSubmitted())
    case "completed":
      return Effect.fail(new PlanningAlreadyCompleted({ outcome: state.outcome ?? "some_failed" }))
    case "executing":
      return Effect.void
  }
}

const requireTask = (
  state: PlannerState,
  taskId: TaskId,
  expected: ReadonlyArray<TaskStatus>
): Effect.Effect<Task, PlannerError> => {
  const task = state.tasks.get(taskId)
  if (task === undefined) return Effect.fail(new UnknownTask({ taskId }))
  if (!expected.includes(task.status)) {
    return Effect.fail(new UnexpectedTaskStatus({ taskId, status: task.status, expected }))
  }
  return Effect.succeed(task)
}

const initialize = (state: PlannerState, command: Initialize): Decision =>
  state.phase === "uninitialized"
    ? Effect.succeed([
        new PlanningStarted({
          input: command.input,
          attachments: command.attachments,
          maxParallel: command.maxParallel
        })
      ])
    : Effect.fail(new AlreadyInitialized())

const submitPlan = (state: PlannerState, command: SubmitPlan): Decision => {
  switch (state.phase) {
    case "uninitialized":
      return Effect.fail(new PlannerNotInitialized())
    case "executing":
      return Effect.fail(new PlanAlreadySubmitted())
    case "completed":
      return Effect.fail(new PlanAlreadySubmitted())
    case "awaiting_plan":
      return Effect.flatMap(validatePlan(command.tasks), (tasks) =>
        settle(state, [new TasksPlanned({ tasks })])
      )
  }
}

const clarificationProvided = (state: PlannerState, event: ClarificationProvided): Decision =>
  Effect.flatMap(requireTask(state, event.taskId, ["needs_clarification"]), (task) => {
    const received = new ClarificationReceived({ taskId: task.id, answer: event.answer })
    return settle(
      state,
      task.kind === "clarification"
        ? [received, new TaskStatusUpdated({ taskId: task.id, status: "completed", result: event.answer })]
        : [received]
    )
  })

const handleExecutorEvent = (state: PlannerState, event: ExecutorEvent): Decision =>
  Effect.zipRight(
    requirePlan(state),
    Effect.suspend((): Decision => {
      switch (event._tag) {
        case "TaskCompleted":
          return Effect.flatMap(requireTask(state, event.taskId, ["running"]), () =>
            settle(state, [
              new TaskStatusUpdated({ taskId: event.taskId, status: "completed", result: event.result })
            ])
          )
        case "TaskFailed":
          return Effect.flatMap(requireTask(state, event.taskId, ["running", "needs_clarification"]), () =>
            settle(state, [
              new TaskStatusUpdated({ taskId: event.taskId, status: "failed", result: event.error }),
              ...skipDependents(state, event.taskId)
            ])
          )
        case "NeedsClarification":
          return Effect.flatMap(requireTask(state, event.taskId, ["running"]), () =>
            settle(state, [new ClarificationRequested({ taskId: event.taskId, question: event.question })])
          )
        case "ClarificationProvided":
          return clarificationProvided(state, event)
      }
    })
  )

const continuePlanning = (state: PlannerState): Decision =>
  state.phase === "uninitialized" ? Effect.fail(new PlannerNotInitialized()) : settle(state, [])

const finished: ReadonlyArray<TaskStatus> = ["completed", "failed", "skipped"]

const compactContext = (state: PlannerState, command: CompactContext): Decision => {
  if (state.phase === "uninitialized") return Effect.fail(new PlannerNotInitialized())
  if (state.phase === "completed") {
    return Effect.fail(new PlanningAlreadyCompleted({ outcome: state.outcome ?? "some_failed" }))
  }
  const taskIds = Array.from(new Set(command.taskIds))
  return Effect.map(
    Effect.forEach(taskIds, (taskId) => requireTask(state, taskId, finished)),
    (tasks): ReadonlyArray<PlannerEvent> =>
      command.summary === state.contextSummary && tasks.every((task) => task.compacted)
        ? []
        : [new ContextCompacted({ summary: command.summary, taskIds })]
  )
}

const complete = (state: PlannerState, command: Complete): Decision => {
  switch (state.phase) {
    case "uninitialized":
      return Effect.fail(new PlannerNotInitialized())
    case "completed":
      return Effect.succeed([])
    case "awaiting_plan":
      return command.force
        ? Effect.succeed([completion(state, command.reason ?? "cancelled")])
        : Effect.fail(new PlanNotSubmitted())
    case "executing": {
      const open = taskList(state).filter((task) => !isTerminalStatus(task.status))
      if (open.length === 0) return Effect.succeed([completion(state)])
      if (!command.force) return Effect.fail(new TasksStillOpen({ taskIds: open.map((task) => task.id) }))
      const reason = command.reason ?? "cancelled"
      const skipped = open.map(
        (task) =>
          new TaskStatusUpdated({ taskId: task.id, status: "skipped", result: `cancelled: ${reason}` })
      )
      return Effect.succeed([...skipped, completion(applyAll(state, skipped), reason)])
    }
  }
}

const process = (state: PlannerState, command: PlannerCommand): Decision => {
  switch (command._tag) {
    case "Initialize":
      return initialize(state, command)
    case "SubmitPlan":
      return submitPlan(state, command)
    case "HandleExecutorEvent":
      return handleExecutorEvent(state, command.event)
    case "Continue":
      return continuePlanning(state)
    case "CompactContext":
      return compactContext(state, command)
    case "Complete":
      return complete(state, command)
  }
}

// ---------------------------------------------------------------------------------------------
// the handler
// ---------------------------------------------------------------------------------------------

/**
 * The planner as a plain value.
 *
 * @since 0.1.0
 * @category handlers
 */
export const plannerHandler: Handler.Handler<PlannerState, PlannerCommand, PlannerEvent, PlannerError> =
  Handler.make({ initial: initialPlannerState, process, apply })

/**
 * The planner handler as a service, so applications read it from the context and tests can
 * replace it.
 *
 * @since 0.1.0
 * @category services
 */
export class PlannerHandler extends Context.Tag("dabgent/PlannerHandler")<
  PlannerHandler,
  Handler.Handler<PlannerState, PlannerCommand, PlannerEvent, PlannerError>
>() {
  /**
   * Provides {@link plannerHandler}.
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layer: Layer.Layer<PlannerHandler> = Layer.succeed(PlannerHandler, plannerHandler)
}
