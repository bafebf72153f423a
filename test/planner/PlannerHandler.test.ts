import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Handler from "../../src/Handler.js"
import {
  AlreadyInitialized,
  Attachment,
  ClarificationProvided,
  ClarificationReceived,
  ClarificationRequested,
  CompactContext,
  Complete,
  ContextCompacted,
  Continue,
  dependencyResults,
  DependencyCycle,
  DuplicateTaskId,
  EmptyPlan,
  type ExecutorEvent,
  HandleExecutorEvent,
  inFlightTasks,
  Initialize,
  NeedsClarification,
  pendingClarifications,
  PlanAlreadySubmitted,
  type PlannerCommand,
  PlannerEvent,
  PlannerHandler,
  plannerHandler,
  PlannerNotInitialized,
  type PlannerState,
  PlanningAlreadyCompleted,
  PlanningCompleted,
  PlanningStarted,
  PlanNotSubmitted,
  SubmitPlan,
  TaskCompleted,
  TaskDispatched,
  TaskFailed,
  type TaskKind,
  TasksPlanned,
  TaskSpec,
  TasksStillOpen,
  TaskStatusUpdated,
  UnexpectedTaskStatus,
  UnknownDependency,
  UnknownTask
} from "../../src/planner/index.js"
import * as HandlerSpec from "../../src/testing/HandlerSpec.js"

const spec = HandlerSpec.forHandler(plannerHandler)

const task = (
  id: string,
  dependencies: ReadonlyArray<string> = [],
  kind: TaskKind = "processing"
): TaskSpec => new TaskSpec({ id, description: `do ${id}`, kind, dependencies })

const question = (id: string, text: string, dependencies: ReadonlyArray<string> = []): TaskSpec =>
  new TaskSpec({ id, description: text, kind: "clarification", dependencies })

const started = (maxParallel = 2) =>
  new PlanningStarted({ input: "Build a todo app", attachments: [], maxParallel })
const dispatched = (spec: TaskSpec) =>
  new TaskDispatched({ taskId: spec.id, kind: spec.kind, description: spec.description })
const completedStatus = (taskId: string, result: string) =>
  new TaskStatusUpdated({ taskId, status: "completed", result })
const failedStatus = (taskId: string, result: string) =>
  new TaskStatusUpdated({ taskId, status: "failed", result })
const skippedStatus = (taskId: string, failed: string) =>
  new TaskStatusUpdated({ taskId, status: "skipped", result: `skipped: dependency "${failed}" failed` })
const report = (event: ExecutorEvent) => new HandleExecutorEvent({ event })
const complete = (taskId: string, result = `${taskId} done`) => report(new TaskCompleted({ taskId, result }))
const fail = (taskId: string, error = `${taskId} broke`) => report(new TaskFailed({ taskId, error }))

const statuses = (state: PlannerState): Record<string, string> =>
  Object.fromEntries(Array.from(state.tasks.values(), (task) => [task.id, task.status]))

// a diamond: a, then b and c, then d
const a = task("a")
const b = task("b", ["a"])
const c = task("c", ["a"])
const d = task("d", ["b", "c"])
const diamond = [a, b, c, d]

describe("initialize and plan", () => {
  it.effect("Initialize records the input with the default limit and no attachments", () =>
    spec
      .given([])
      .when(new Initialize({ input: "Build a todo app" }))
      .thenEvents([new PlanningStarted({ input: "Build a todo app", attachments: [], maxParallel: 4 })])
  )

  it.effect("Initialize records attachments and the parallel limit in the state", () =>
    Effect.gen(function* () {
      const attachments = [
        new Attachment({ source: "docs/spec.md", content: "# Spec" }),
        new Attachment({ source: "https://example.com/api" })
      ]
      const state = yield* spec
        .given([])
        .when(new Initialize({ input: "Build it", attachments, maxParallel: 3 }))
        .thenEvents([new PlanningStarted({ input: "Build it", attachments, maxParallel: 3 })])
      expect(state.phase).toBe("awaiting_plan")
      expect(state.input).toBe("Build it")
      expect(state.attachments).toEqual(attachments)
      expect(state.maxParallel).toBe(3)
    })
  )

  it.effect("a second Initialize is rejected", () =>
    spec
      .given([started()])
      .when(new Initialize({ input: "again" }))
      .thenError(AlreadyInitialized)
  )

  it.effect("a plan before Initialize is rejected", () =>
    spec
      .given([])
      .when(new SubmitPlan({ tasks: [a] }))
      .thenError(PlannerNotInitialized)
  )

  it.effect("the plan is recorded and every ready task is dispatched up to the limit", () =>
    Effect.gen(function* () {
      const plan = [task("1"), task("2"), task("3"), task("4", ["1"])]
      const state = yield* spec
        .given([started(2)])
        .when(new SubmitPlan({ tasks: plan }))
        .thenEvents([new TasksPlanned({ tasks: plan }), dispatched(task("1")), dispatched(task("2"))])
      expect(state.phase).toBe("executing")
      expect(statuses(state)).toEqual({ "1": "running", "2": "running", "3": "planned", "4": "planned" })
      expect(inFlightTasks(state).map((t) => t.id)).toEqual(["1", "2"])
    })
  )

  it.effect("a second plan is rejected", () =>
    spec
      .given([started(), new TasksPlanned({ tasks: [a] })])
      .when(new SubmitPlan({ tasks: [b] }))
      .thenError(PlanAlreadySubmitted)
  )

  it.effect("a plan with a cycle is rejected with the cycle", () =>
    spec
      .given([started()])
      .when(new SubmitPlan({ tasks: [task("x", ["z"]), task("y", ["x"]), task("z", ["y"])] }))
      .thenError(DependencyCycle, (error) => error.cycle.join(">") === "x>z>y>x")
  )

  it.effect("a plan with an unknown dependency is rejected naming it", () =>
    spec
      .given([started()])
      .when(new SubmitPlan({ tasks: [task("x", ["ghost"])] }))
      .thenError(
        UnknownDependency,
        (error) => error.references.length === 1 && error.references[0]?.dependency === "ghost"
      )
  )

  it.effect("a plan with a duplicate id is rejected naming it", () =>
    spec
      .given([started()])
      .when(new SubmitPlan({ tasks: [task("x"), task("x")] }))
      .thenError(DuplicateTaskId, (error) => error.taskIds.join() === "x")
  )

  it.effect("an empty plan is rejected", () =>
    spec
      .given([started()])
      .when(new SubmitPlan({ tasks: [] }))
      .thenError(EmptyPlan)
  )
})

describe("task execution flow", () => {
  const planned = [started(), new TasksPlanned({ tasks: diamond }), dispatched(a)]

  it.effect("completing a task dispatches the dependents it unblocks", () =>
    Effect.gen(function* () {
      const state = yield* spec
        .given(planned)
        .when(complete("a", "schema ready"))
        .thenEvents([completedStatus("a", "schema ready"), dispatched(b), dispatched(c)])
      expect(dependencyResults(state, "b")).toEqual([
        { taskId: "a", description: "do a", result: "schema ready" }
      ])
    })
  )

  it.effect("a task waits until every dependency completed", () =>
    spec
      .given([...planned, completedStatus("a", "ok"), dispatched(b), dispatched(c)])
      .when(complete("b"))
      .thenEvents([completedStatus("b", "b done")])
  )

  it.effect("the last dependency completing dispatches the task", () =>
    spec
      .given([
        ...planned,
        completedStatus("a", "ok"),
        dispatched(b),
        dispatched(c),
        completedStatus("b", "ok")
      ])
      .when(complete("c"))
      .thenEvents([completedStatus("c", "c done"), dispatched(d)])
  )

  it.effect("a freed slot goes to the next ready task in plan order", () => {
    const plan = [task("1"), task("2"), task("3"), task("4")]
    return spec
      .given([started(2), new TasksPlanned({ tasks: plan }), dispatched(task("1")), dispatched(task("2"))])
      .when(complete("2"))
      .thenEvents([completedStatus("2", "2 done"), dispatched(task("3"))])
  })

  it.effect("completing the last task completes the planning with all_done", () =>
    Effect.gen(function* () {
      const state = yield* spec
        .given([
          started(),
          new TasksPlanned({ tasks: [a, b] }),
          dispatched(a),
          completedStatus("a", "ok"),
          dispatched(b)
        ])
        .when(complete("b"))
        .thenEvents([
          completedStatus("b", "b done"),
          new PlanningCompleted({ outcome: "all_done", completed: ["a", "b"], failed: [], skipped: [] })
        ])
      expect(state.phase).toBe("completed")
      expect(state.outcome).toBe("all_done")
    })
  )

  it.effect("runs a plan end to end; folding the log gives the same state", () =>
    Effect.gen(function* () {
      const commands: ReadonlyArray<PlannerCommand> = [
        new Initialize({ input: "Build a todo app", maxParallel: 2 }),
        new SubmitPlan({ tasks: diamond }),
        complete("a"),
        complete("c"),
        complete("b"),
        complete("d")
      ]
      let state = plannerHandler.initial
      const log: Array<PlannerEvent> = []
      for (const command of commands) {
        const step = yield* Handler.decide(plannerHandler, state, command)
        log.push(...step.events)
        state = step.state
      }
      expect(log.map((event) => event._tag)).toEqual([
        "PlanningStarted",
        "TasksPlanned",
        "TaskDispatched",
        "TaskStatusUpdated",
        "TaskDispatched",
        "TaskDispatched",
        "TaskStatusUpdated",
        "TaskStatusUpdated",
        "TaskDispatched",
        "TaskStatusUpdated",
        "PlanningCompleted"
      ])
      expect(log.filter((e) => e._tag === "TaskDispatched").map((e) => e.taskId)).toEqual([
        "a",
        "b",
        "c",
        "d"
      ])
      expect(state.outcome).toBe("all_done")
      expect(statuses(state)).toEqual({ a: "completed", b: "completed", c: "completed", d: "completed" })
      expect(Handler.fold(plannerHandler, log)).toEqual(state)
    })
  )

  it.effect("a report about an unknown task is rejected", () =>
    spec
      .given(planned)
      .when(complete("zzz"))
      .thenError(UnknownTask, (error) => error.taskId === "zzz")
  )

  it.effect("a report about a task that is not running is rejected", () =>
    spec
      .given(planned)
      .when(complete("b"))
      .thenError(
        UnexpectedTaskStatus,
        (error) => error.taskId === "b" && error.status === "planned" && error.expected.join() === "running"
      )
  )

  it.effect("a second completion of the same task is rejected", () =>
    spec
      .given([...planned, completedStatus("a", "ok")])
      .when(complete("a"))
      .thenError(UnexpectedTaskStatus)
  )

  it.effect("a report before any plan is rejected", () =>
    spec.given([started()]).when(complete("a")).thenError(PlanNotSubmitted)
  )
})

describe("failure", () => {
  it.effect("a failed task skips its dependents transitively; the rest keeps running", () =>
    Effect.gen(function* () {
      const x = task("x")
      const plan = [a, x, task("b", ["a"]), task("c", ["b"]), task("e", ["x"])]
      const state = yield* spec
        .given([started(2), new TasksPlanned({ tasks: plan }), dispatched(a), dispatched(x)])
        .when(fail("a", "compiler crashed"))
        .thenEvents([failedStatus("a", "compiler crashed"), skippedStatus("b", "a"), skippedStatus("c", "a")])
      expect(statuses(state)).toEqual({ a: "failed", x: "running", b: "skipped", c: "skipped", e: "planned" })
      expect(state.tasks.get("c")?.result).toBe('skipped: dependency "a" failed')
      expect(state.phase).toBe("executing")
    })
  )

  it.effect("a task with one failed dependency is skipped while its other dependency still runs", () =>
    spec
      .given([started(2), new TasksPlanned({ tasks: [a, task("y"), task("z", ["a", "y"])] }), dispatched(a)])
      .when(fail("a"))
      .thenEvents([failedStatus("a", "a broke"), skippedStatus("z", "a"), dispatched(task("y"))])
  )

  it.effect("when the last open task fails the planning completes with some_failed", () =>
    spec
      .given([
        started(),
        new TasksPlanned({ tasks: diamond }),
        dispatched(a),
        completedStatus("a", "ok"),
        dispatched(b),
        dispatched(c),
        completedStatus("c", "ok")
      ])
      .when(fail("b"))
      .thenEvents([
        failedStatus("b", "b broke"),
        skippedStatus("d", "b"),
        new PlanningCompleted({
          outcome: "some_failed",
          completed: ["a", "c"],
          failed: ["b"],
          skipped: ["d"]
        })
      ])
  )
})

describe("clarification flow", () => {
  const ask = question("q", "Which database should the app use?")
  const build = task("build", ["q"])

  it.effect("a dispatched clarification task asks the user", () =>
    Effect.gen(function* () {
      const state = yield* spec
        .given([started()])
        .when(new SubmitPlan({ tasks: [ask, build] }))
        .thenEvents([
          new TasksPlanned({ tasks: [ask, build] }),
          dispatched(ask),
          new ClarificationRequested({ taskId: "q", question: "Which database should the app use?" })
        ])
      expect(statuses(state)).toEqual({ q: "needs_clarification", build: "planned" })
      expect(pendingClarifications(state)).toEqual([
        { taskId: "q", question: "Which database should the app use?" }
      ])
    })
  )

  it.effect("the answer completes the clarification task and dispatches what it unblocks", () =>
    Effect.gen(function* () {
      const state = yield* spec
        .given([
          started(),
          new TasksPlanned({ tasks: [ask, build] }),
          dispatched(ask),
          new ClarificationRequested({ taskId: "q", question: ask.description })
        ])
        .when(report(new ClarificationProvided({ taskId: "q", answer: "Postgres" })))
        .thenEvents([
          new ClarificationReceived({ taskId: "q", answer: "Postgres" }),
          completedStatus("q", "Postgres"),
          dispatched(build)
        ])
      expect(pendingClarifications(state)).toEqual([])
      expect(dependencyResults(state, "build")).toEqual([
        { taskId: "q", description: ask.description, result: "Postgres" }
      ])
    })
  )

  it.effect("a running task can ask; the answer puts it back to running", () =>
    Effect.gen(function* () {
      const given = [started(), new TasksPlanned({ tasks: [a] }), dispatched(a)]
      const asked = yield* spec
        .given(given)
        .when(report(new NeedsClarification({ taskId: "a", question: "Which port?" })))
        .thenEvents([new ClarificationRequested({ taskId: "a", question: "Which port?" })])
      expect(pendingClarifications(asked)).toEqual([{ taskId: "a", question: "Which port?" }])
      expect(inFlightTasks(asked).map((t) => t.id)).toEqual(["a"])

      const answered = yield* spec
        .given([...given, new ClarificationRequested({ taskId: "a", question: "Which port?" })])
        .when(report(new ClarificationProvided({ taskId: "a", answer: "8080" })))
        .thenEvents([new ClarificationReceived({ taskId: "a", answer: "8080" })])
      expect(answered.tasks.get("a")).toMatchObject({
        status: "running",
        question: "Which port?",
        answer: "8080"
      })

      yield* spec
        .given([
          ...given,
          new ClarificationRequested({ taskId: "a", question: "Which port?" }),
          new ClarificationReceived({ taskId: "a", answer: "8080" })
        ])
        .when(complete("a"))
        .thenEvents([
          completedStatus("a", "a done"),
          new PlanningCompleted({ outcome: "all_done", completed: ["a"], failed: [], skipped: [] })
        ])
    })
  )

  it.effect("a task waiting for the user occupies a parallel slot", () =>
    spec
      .given([started(1)])
      .when(new SubmitPlan({ tasks: [ask, a] }))
      .thenEvents([
        new TasksPlanned({ tasks: [ask, a] }),
        dispatched(ask),
        new ClarificationRequested({ taskId: "q", question: ask.description })
      ])
  )

  it.effect("an answer for a task that asked nothing is rejected", () =>
    spec
      .given([started(), new TasksPlanned({ tasks: [a] }), dispatched(a)])
      .when(report(new ClarificationProvided({ taskId: "a", answer: "yes" })))
      .thenError(UnexpectedTaskStatus, (error) => error.expected.join() === "needs_clarification")
  )

  it.effect("a completion for a task waiting for the user is rejected", () =>
    spec
      .given([
        started(),
        new TasksPlanned({ tasks: [ask] }),
        dispatched(ask),
        new ClarificationRequested({ taskId: "q", question: ask.description })
      ])
      .when(complete("q"))
      .thenError(UnexpectedTaskStatus, (error) => error.status === "needs_clarification")
  )

  it.effect("a task waiting for the user can fail, skipping its dependents", () =>
    spec
      .given([
        started(),
        new TasksPlanned({ tasks: [ask, build] }),
        dispatched(ask),
        new ClarificationRequested({ taskId: "q", question: ask.description })
      ])
      .when(fail("q", "the user declined"))
      .thenEvents([
        failedStatus("q", "the user declined"),
        skippedStatus("build", "q"),
        new PlanningCompleted({ outcome: "some_failed", completed: [], failed: ["q"], skipped: ["build"] })
      ])
  )
})

describe("context compaction", () => {
  const five = [task("1"), task("2"), task("3"), task("4"), task("5")]
  const history = [
    started(5),
    new TasksPlanned({ tasks: five }),
    ...five.map(dispatched),
    completedStatus("1", "one"),
    completedStatus("2", "two"),
    failedStatus("3", "three broke")
  ]

  it.effect("replaces the summary and drops the results of the compacted tasks", () =>
    Effect.gen(function* () {
      const state = yield* spec
        .given(history)
        .when(new CompactContext({ summary: "1 and 2 built the schema; 3 failed", taskIds: ["1", "2", "3"] }))
        .thenEvents([
          new ContextCompacted({ summary: "1 and 2 built the schema; 3 failed", taskIds: ["1", "2", "3"] })
        ])
      expect(state.contextSummary).toBe("1 and 2 built the schema; 3 failed")
      expect(state.tasks.get("1")).toMatchObject({ status: "completed", compacted: true })
      expect(state.tasks.get("1")?.result).toBe(undefined)
      expect(state.tasks.get("4")).toMatchObject({ status: "running", compacted: false })
    })
  )

  it.effect("the same compaction twice records nothing the second time", () =>
    spec
      .given([...history, new ContextCompacted({ summary: "s", taskIds: ["1", "2"] })])
      .when(new CompactContext({ summary: "s", taskIds: ["2", "1", "2"] }))
      .thenNothing()
  )

  it.effect("a running task cannot be compacted", () =>
    spec
      .given(history)
      .when(new CompactContext({ summary: "s", taskIds: ["1", "4"] }))
      .thenError(UnexpectedTaskStatus, (error) => error.taskId === "4" && error.status === "running")
  )

  it.effect("an unknown task cannot be compacted", () =>
    spec
      .given(history)
      .when(new CompactContext({ summary: "s", taskIds: ["9"] }))
      .thenError(UnknownTask)
  )

  it.effect("the summary alone can be compacted before any plan", () =>
    spec
      .given([started()])
      .when(new CompactContext({ summary: "the user wants a todo app" }))
      .thenEvents([new ContextCompacted({ summary: "the user wants a todo app", taskIds: [] })])
  )
})

describe("Continue", () => {
  it.effect("does nothing when nothing new is ready", () =>
    spec
      .given([started(1), new TasksPlanned({ tasks: [a, task("x")] }), dispatched(a)])
      .when(new Continue())
      .thenNothing()
  )

  it.effect("dispatches ready tasks a crashed writer never dispatched", () =>
    spec
      .given([started(2), new TasksPlanned({ tasks: [a, task("x"), task("y")] })])
      .when(new Continue())
      .thenEvents([dispatched(a), dispatched(task("x"))])
  )

  it.effect("does nothing while waiting for a plan or after completion", () =>
    Effect.gen(function* () {
      yield* spec.given([started()]).when(new Continue()).thenNothing()
      yield* spec
        .given([
          started(),
          new TasksPlanned({ tasks: [a] }),
          dispatched(a),
          completedStatus("a", "ok"),
          new PlanningCompleted({ outcome: "all_done", completed: ["a"], failed: [], skipped: [] })
        ])
        .when(new Continue())
        .thenNothing()
    })
  )

  it.effect("is rejected before Initialize", () =>
    spec.given([]).when(new Continue()).thenError(PlannerNotInitialized)
  )
})

describe("completion", () => {
  const running = [
    started(),
    new TasksPlanned({ tasks: [a, b, task("x")] }),
    dispatched(a),
    dispatched(task("x"))
  ]
  const done = [
    started(),
    new TasksPlanned({ tasks: [a] }),
    dispatched(a),
    completedStatus("a", "ok"),
    new PlanningCompleted({ outcome: "all_done", completed: ["a"], failed: [], skipped: [] })
  ]

  it.effect("Complete while tasks are open is rejected naming them", () =>
    spec
      .given(running)
      .when(new Complete())
      .thenError(TasksStillOpen, (error) => error.taskIds.join() === "a,b,x")
  )

  it.effect("a forced Complete skips the open tasks and completes as cancelled", () =>
    Effect.gen(function* () {
      const history = [...running, completedStatus("x", "ok")]
      const state = yield* spec
        .given(history)
        .when(new Complete({ force: true, reason: "user abort" }))
        .thenEvents([
          new TaskStatusUpdated({ taskId: "a", status: "skipped", result: "cancelled: user abort" }),
          new TaskStatusUpdated({ taskId: "b", status: "skipped", result: "cancelled: user abort" }),
          new PlanningCompleted({
            outcome: "cancelled",
            completed: ["x"],
            failed: [],
            skipped: ["a", "b"],
            reason: "user abort"
          })
        ])
      expect(state.outcome).toBe("cancelled")
    })
  )

  it.effect("a forced Complete before any plan cancels the session", () =>
    spec
      .given([started()])
      .when(new Complete({ force: true }))
      .thenEvents([
        new PlanningCompleted({
          outcome: "cancelled",
          completed: [],
          failed: [],
          skipped: [],
          reason: "cancelled"
        })
      ])
  )

  it.effect("Complete when every task is finished records the completion once", () =>
    Effect.gen(function* () {
      const finished = [
        started(),
        new TasksPlanned({ tasks: [a] }),
        dispatched(a),
        completedStatus("a", "ok")
      ]
      yield* spec
        .given(finished)
        .when(new Complete())
        .thenEvents([
          new PlanningCompleted({ outcome: "all_done", completed: ["a"], failed: [], skipped: [] })
        ])
      yield* spec.given(done).when(new Complete()).thenNothing()
      yield* spec
        .given(done)
        .when(new Complete({ force: true }))
        .thenNothing()
    })
  )

  it.effect("reports and compactions after completion are rejected", () =>
    Effect.gen(function* () {
      yield* spec
        .given(done)
        .when(complete("a"))
        .thenError(PlanningAlreadyCompleted, (error) => error.outcome === "all_done")
      yield* spec.given(done).when(fail("a")).thenError(PlanningAlreadyCompleted)
      yield* spec
        .given(done)
        .when(new CompactContext({ summary: "s" }))
        .thenError(PlanningAlreadyCompleted)
      yield* spec
        .given(done)
        .when(new SubmitPlan({ tasks: [b] }))
        .thenError(PlanAlreadySubmitted)
      yield* spec
        .given(done)
        .when(new Initialize({ input: "again" }))
        .thenError(AlreadyInitialized)
    })
  )

  it.effect("Complete before Initialize is rejected", () =>
    spec
      .given([])
      .when(new Complete({ force: true }))
      .thenError(PlannerNotInitialized)
  )
})

describe("fold reconstructs state", () => {
  it("rebuilds tasks, statuses, results and the dispatched set from history", () => {
    const state = Handler.fold(plannerHandler, [
      started(3),
      new TasksPlanned({ tasks: [task("1"), task("2", [], "tool_call"), task("3", ["1", "2"])] }),
      dispatched(task("1")),
      dispatched(task("2", [], "tool_call")),
      completedStatus("1", "Done")
    ])
    expect(state.phase).toBe("executing")
    expect(state.maxParallel).toBe(3)
    expect(state.tasks.size).toBe(3)
    expect(state.tasks.get("1")).toEqual({
      id: "1",
      description: "do 1",
      kind: "processing",
      dependencies: [],
      status: "completed",
      result: "Done",
      compacted: false
    })
    expect(state.tasks.get("2")?.kind).toBe("tool_call")
    expect(inFlightTasks(state).map((t) => t.id)).toEqual(["2"])
    expect(state.dependents.get("1")).toEqual(["3"])
  })

  it("ignores events about tasks it does not know", () => {
    const before = Handler.fold(plannerHandler, [started(), new TasksPlanned({ tasks: [a] })])
    const after = Handler.fold(
      plannerHandler,
      [completedStatus("nope", "x"), dispatched(task("nope"))],
      before
    )
    expect(after).toEqual(before)
  })
})

describe("PlannerEvent schema", () => {
  const samples: ReadonlyArray<PlannerEvent> = [
    new PlanningStarted({
      input: "Build a todo app",
      attachments: [
        new Attachment({ source: "a.md", content: "x" }),
        new Attachment({ source: "https://e.x" })
      ],
      maxParallel: 2
    }),
    new TasksPlanned({ tasks: [a, task("b", ["a"], "tool_call"), question("q", "Why?")] }),
    dispatched(a),
    completedStatus("a", "ok"),
    new TaskStatusUpdated({ taskId: "a", status: "running" }),
    new ClarificationRequested({ taskId: "q", question: "Why?" }),
    new ClarificationReceived({ taskId: "q", answer: "Because" }),
    new ContextCompacted({ summary: "s", taskIds: ["a"] }),
    new PlanningCompleted({ outcome: "cancelled", completed: [], failed: [], skipped: ["a"], reason: "stop" })
  ]

  it.effect("every event survives encode → JSON → decode", () =>
    Effect.gen(function* () {
      for (const event of samples) {
        const json = JSON.stringify(yield* Schema.encode(PlannerEvent)(event))
        const decoded = yield* Schema.decodeUnknown(PlannerEvent)(JSON.parse(json))
        expect(decoded).toEqual(event)
        expect(decoded).toBeInstanceOf(event.constructor)
      }
    })
  )

  it.effect("decoding rejects an unknown status", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Schema.decodeUnknown(PlannerEvent)({ _tag: "TaskStatusUpdated", taskId: "a", status: "done" })
      )
      expect(error._tag).toBe("ParseError")
    })
  )
})

describe("PlannerHandler service", () => {
  it.effect("the layer provides the planner handler", () =>
    Effect.gen(function* () {
      const handler = yield* PlannerHandler
      expect(handler).toBe(plannerHandler)
    }).pipe(Effect.provide(PlannerHandler.layer))
  )
})
