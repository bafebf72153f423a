/**
 * `dabgent replay`: sessions are written straight into a SQLite file through the typed logs,
 * then folded with `SessionReplay` and through the command itself, run in-process.
 */
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it, vi } from "vitest"
import { ExitCode } from "../../src/cli/ExitCode.js"
import { replay } from "../../src/cli/ReplayCommand.js"
import * as SessionHistory from "../../src/cli/SessionHistory.js"
import * as SessionReplay from "../../src/cli/SessionReplay.js"
import * as EventCodec from "../../src/events/EventCodec.js"
import * as EventLog from "../../src/events/EventLog.js"
import { PlannerEvents } from "../../src/events/PlannerEvents.js"
import { SessionEvents, SessionStarted, sessionAggregateId } from "../../src/events/SessionEvents.js"
import { ThreadEvents } from "../../src/events/ThreadEvents.js"
import { TaskSpec } from "../../src/planner/Plan.js"
import {
  PlanningStarted,
  TaskDispatched,
  TasksPlanned,
  TaskStatusUpdated
} from "../../src/planner/PlannerEvent.js"
import { EventStore } from "../../src/store/EventStore.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import {
  LlmCompleted,
  Prompted,
  ThreadDone,
  ToolCompleted,
  ToolStarted,
  UserQuestionAsked
} from "../../src/thread/ThreadEvent.js"

// Counts imports of the planner part of replay, which must only happen for planner sessions.
const plannerImports = vi.hoisted(() => ({ count: 0 }))
vi.mock("../../src/cli/PlannerReplay.js", async (importOriginal) => {
  plannerImports.count += 1
  return await importOriginal()
})

const streamId = "dabgent"
const newId = () => `t-${randomBytes(4).toString("hex")}`
const tempStore = () => join(mkdtempSync(join(tmpdir(), "dabgent-replay-")), "events.db")

const inStore = <A, E>(file: string, effect: Effect.Effect<A, E, EventStore>) =>
  Effect.runPromise(Effect.provide(effect, SqliteEventStore.layer({ filename: file })))

const logs = Effect.map(EventStore, (store) => ({
  thread: EventLog.make(store, EventCodec.make(ThreadEvents)),
  session: EventLog.make(store, EventCodec.make(SessionEvents)),
  planner: EventLog.make(store, EventCodec.make(PlannerEvents)),
  store
}))

const started = (input: string) =>
  new SessionStarted({
    mode: "thread",
    input,
    model: "openai-compat:test-model",
    workdir: "/tmp/work",
    sandbox: "local",
    allowNetwork: false,
    maxSteps: 10
  })

/**
 * A finished thread session, with another session's event in between:
 * #1 record, #2 Prompted, #3 (other session), #4 LlmCompleted(write_file), #5 ToolStarted,
 * #6 ToolCompleted, #7 LlmCompleted(done), #8 ToolStarted, #9 ToolCompleted + #10 ThreadDone.
 */
const threadSession = (sessionId: string, other: string) =>
  Effect.gen(function* () {
    const { thread, session } = yield* logs
    const meta = { correlationId: sessionId }
    const append = (events: ReadonlyArray<typeof ThreadEvents.schema.Type>, expectedVersion: number) =>
      thread.append(ThreadEvents, {
        streamId,
        aggregateId: sessionId,
        events,
        expectedVersion,
        metadata: meta
      })
    yield* session.append(SessionEvents, {
      streamId,
      aggregateId: sessionAggregateId(sessionId),
      events: [started("write hello.sh")],
      expectedVersion: 0,
      metadata: meta
    })
    yield* append([new Prompted({ prompt: "write hello.sh", maxSteps: 10 })], 0)
    yield* thread.append(ThreadEvents, {
      streamId,
      aggregateId: other,
      events: [new Prompted({ prompt: "something else", maxSteps: 5 })],
      expectedVersion: 0
    })
    yield* append(
      [
        new LlmCompleted({
          text: "I'll write the script.",
          toolCalls: [{ id: "c1", name: "write_file", params: { path: "hello.sh", content: "echo hi\n" } }],
          usage: { inputTokens: 100, outputTokens: 20 },
          finishReason: "tool-calls"
        })
      ],
      1
    )
    yield* append([new ToolStarted({ callId: "c1", name: "write_file" })], 2)
    yield* append(
      [new ToolCompleted({ callId: "c1", name: "write_file", result: "wrote 8 bytes", isError: false })],
      3
    )
    yield* append(
      [
        new LlmCompleted({
          text: "",
          toolCalls: [{ id: "c2", name: "done", params: { summary: "hello.sh written" } }],
          usage: { inputTokens: 150, outputTokens: 10 },
          finishReason: "tool-calls"
        })
      ],
      4
    )
    yield* append([new ToolStarted({ callId: "c2", name: "done" })], 5)
    yield* append(
      [
        new ToolCompleted({ callId: "c2", name: "done", result: "accepted", isError: false }),
        new ThreadDone({ summary: "hello.sh written" })
      ],
      6
    )
  })

const loaded = (file: string, sessionId: string) =>
  inStore(
    file,
    Effect.flatMap(SessionHistory.load(sessionId, streamId), (found) =>
      Option.isSome(found) ? Effect.succeed(found.value) : Effect.dieMessage(`no session ${sessionId}`)
    )
  )

const threadOf = (replayed: SessionReplay.SessionReplay) => {
  const thread = replayed.aggregates.find((aggregate) => aggregate.family === "thread")
  if (thread?.family !== "thread") throw new Error("no thread aggregate")
  return thread
}

/** Runs the `replay` command in-process as `dabgent replay ...args`, capturing its output. */
const runReplay = async (args: ReadonlyArray<string>) => {
  const stdout: Array<string> = []
  const stderr: Array<string> = []
  vi.spyOn(console, "log").mockImplementation((...parts: Array<unknown>) => void stdout.push(parts.join(" ")))
  vi.spyOn(console, "error").mockImplementation(
    (...parts: Array<unknown>) => void stderr.push(parts.join(" "))
  )
  const app = Command.make("dabgent").pipe(Command.withSubcommands([replay]))
  const exit = await Effect.runPromiseExit(
    Command.run(app, { name: "dabgent", version: "test" })(["node", "dabgent", "replay", ...args]).pipe(
      Effect.provide(NodeContext.layer)
    )
  )
  vi.restoreAllMocks()
  const failure = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
  return {
    code: Exit.isSuccess(exit) ? 0 : failure instanceof ExitCode ? failure.code : -1,
    message: failure instanceof ExitCode ? failure.message : "",
    stdout: stdout.join("\n"),
    stderr: stderr.join("\n")
  }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe("SessionReplay.replay", () => {
  // First in the file: the planner tests below load it.
  it("loads the planner only for a session with planner events", async () => {
    const file = tempStore()
    const threadOnly = newId()
    const planned = `p-${randomBytes(4).toString("hex")}`
    await inStore(
      file,
      Effect.gen(function* () {
        yield* threadSession(threadOnly, newId())
        const { planner } = yield* logs
        yield* planner.append(PlannerEvents, {
          streamId,
          aggregateId: planned,
          events: [new PlanningStarted({ input: "x", attachments: [], maxParallel: 1 })]
        })
      })
    )
    expect(plannerImports.count).toBe(0)
    await Effect.runPromise(SessionReplay.replay(await loaded(file, threadOnly), 100))
    expect((await runReplay([threadOnly, "--store", file])).code).toBe(0)
    expect(plannerImports.count).toBe(0)
    const replayed = await Effect.runPromise(SessionReplay.replay(await loaded(file, planned), 100))
    expect(replayed.aggregates.map((a) => a.family)).toEqual(["planner"])
    expect(plannerImports.count).toBe(1)
  })

  it("folds the thread at each point: tool asked, started, completed, done", async () => {
    const file = tempStore()
    const sessionId = newId()
    await inStore(file, threadSession(sessionId, newId()))
    const history = await loaded(file, sessionId)
    expect(history.events.map((event) => event.sequence)).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10])

    const at = (until: number) => Effect.runPromise(SessionReplay.replay(history, until))

    const onlyRecord = await at(1)
    expect(onlyRecord.aggregates.map((aggregate) => aggregate.family)).toEqual(["session"])

    const asked = threadOf(await at(4)).state
    expect(asked.status).toBe("Tools")
    expect(asked.steps).toBe(1)
    expect(asked.calls.map((call) => [call.call.name, call.started, call.result])).toEqual([
      ["write_file", false, undefined]
    ])

    expect(threadOf(await at(5)).state.calls[0]?.started).toBe(true)

    const completed = threadOf(await at(6))
    expect(completed.state.status).toBe("Agent")
    expect(completed.state.calls[0]?.result).toEqual({ output: "wrote 8 bytes", isError: false })
    expect(completed.version).toBe(4)
    expect(completed.lastSequence).toBe(6)

    const done = threadOf(await at(10)).state
    expect(done.status === "Done" && done.summary).toBe("hello.sh written")
    expect(done.usage).toEqual({ inputTokens: 250, outputTokens: 30 })

    // #3 belongs to the other session: replaying to it is replaying to #2.
    expect(threadOf(await at(3))).toEqual(threadOf(await at(2)))
  })

  it("renders status, tokens, pending calls, last assistant text and the summary", async () => {
    const file = tempStore()
    const sessionId = newId()
    await inStore(file, threadSession(sessionId, newId()))
    const history = await loaded(file, sessionId)
    const text = (until: number) =>
      Effect.runPromise(SessionReplay.replay(history, until)).then((r) => SessionReplay.render(r).join("\n"))

    const asked = await text(5)
    expect(asked).toContain(`session ${sessionId} · 4 of 9 events · up to #5 (latest #10)`)
    expect(asked).toMatch(/status\s+Tools · 1 of 10 steps · 100 in \/ 20 out tokens/)
    expect(asked).toMatch(/assistant\s+"I'll write the script."/)
    expect(asked).toMatch(
      /pending\s+write_file \{"path":"hello.sh","content":"echo hi\\n"\} · started, no result yet/
    )
    expect(asked).toMatch(/started\s+thread · openai-compat:test-model · local sandbox in \/tmp\/work/)
    expect(asked).not.toContain("done ")

    const finished = await text(10)
    expect(finished).toContain("up to #10 (latest)")
    expect(finished).toMatch(/status\s+Done · 2 of 10 steps · 250 in \/ 30 out tokens/)
    expect(finished).toMatch(/done\s+hello.sh written/)
    expect(finished).not.toContain("pending")
  })

  it("shows an open question and a planner's tasks with status and result", async () => {
    const file = tempStore()
    const sessionId = `p-${randomBytes(4).toString("hex")}`
    await inStore(
      file,
      Effect.gen(function* () {
        const { thread, planner } = yield* logs
        yield* planner.append(PlannerEvents, {
          streamId,
          aggregateId: sessionId,
          expectedVersion: 0,
          events: [
            new PlanningStarted({ input: "build a todo app", attachments: [], maxParallel: 2 }),
            new TasksPlanned({
              tasks: [
                new TaskSpec({ id: "1", description: "scaffold", kind: "tool_call", dependencies: [] }),
                new TaskSpec({ id: "2", description: "write docs", kind: "processing", dependencies: ["1"] })
              ]
            }),
            new TaskDispatched({ taskId: "1", kind: "tool_call", description: "scaffold" })
          ]
        })
        yield* thread.append(ThreadEvents, {
          streamId,
          aggregateId: `${sessionId}/task-1`,
          expectedVersion: 0,
          events: [
            new Prompted({ prompt: "scaffold", maxSteps: 5 }),
            new LlmCompleted({
              text: "Which framework?",
              toolCalls: [{ id: "q1", name: "ask_user", params: { question: "Which framework?" } }],
              usage: { inputTokens: 10, outputTokens: 5 },
              finishReason: "tool-calls"
            }),
            new UserQuestionAsked({ callId: "q1", question: "Which framework?" })
          ]
        })
        yield* planner.append(PlannerEvents, {
          streamId,
          aggregateId: sessionId,
          expectedVersion: 3,
          events: [
            new TaskStatusUpdated({ taskId: "1", status: "completed", result: "scaffolded with vite" })
          ]
        })
      })
    )
    const history = await loaded(file, sessionId)
    const replayed = await Effect.runPromise(SessionReplay.replay(history, history.lastSequence))
    expect(replayed.aggregates.map((a) => [a.aggregateId, a.family, a.version])).toEqual([
      [sessionId, "planner", 4],
      [`${sessionId}/task-1`, "thread", 3]
    ])
    const text = SessionReplay.render(replayed).join("\n")
    expect(text).toMatch(/phase\s+executing · 1 of 2 tasks completed/)
    expect(text).toMatch(/task 1\s+completed · tool_call · scaffold → scaffolded with vite/)
    expect(text).toMatch(/task 2\s+planned · processing · write docs \(after 1\)/)
    expect(text).toMatch(/status\s+UserWait/)
    expect(text).toMatch(/question\s+Which framework\?/)

    // JSON (through a round trip, as --json prints it): the tasks as a list in plan order.
    const json: unknown = JSON.parse(JSON.stringify(SessionReplay.toJson(replayed)))
    expect(json).toMatchObject({
      aggregates: [
        {
          family: "planner",
          state: {
            phase: "executing",
            tasks: [
              { id: "1", status: "completed", result: "scaffolded with vite" },
              { id: "2", status: "planned", dependencies: ["1"] }
            ]
          }
        },
        { family: "thread", state: { status: "UserWait", questions: [{ callId: "q1" }] } }
      ]
    })

    // Before the task finished, the planner had it running.
    const earlier = await Effect.runPromise(SessionReplay.replay(history, 3))
    expect(SessionReplay.render(earlier).join("\n")).toMatch(/task 1\s+running/)
  })

  it("counts events of unknown families instead of dropping them", async () => {
    const file = tempStore()
    const sessionId = newId()
    await inStore(
      file,
      Effect.gen(function* () {
        const { store, thread } = yield* logs
        yield* thread.append(ThreadEvents, {
          streamId,
          aggregateId: sessionId,
          events: [new Prompted({ prompt: "x", maxSteps: 3 })]
        })
        yield* store.append({
          streamId,
          aggregateId: `${sessionId}/audit`,
          events: [{ type: "audit.Checked", data: { ok: true } }]
        })
      })
    )
    const replayed = await Effect.runPromise(SessionReplay.replay(await loaded(file, sessionId), 10))
    expect(SessionReplay.render(replayed).join("\n")).toMatch(/events\s+1 not folded: audit.Checked/)
  })
})

describe("dabgent replay (in-process)", () => {
  it("prints the state at --until and at the end; --json gives the folded state", async () => {
    const file = tempStore()
    const sessionId = newId()
    await inStore(file, threadSession(sessionId, newId()))

    const mid = await runReplay([sessionId, "--until", "4", "--store", file])
    expect(mid.code).toBe(0)
    expect(mid.stdout).toMatch(/status\s+Tools · 1 of 10 steps/)
    expect(mid.stdout).toMatch(/pending\s+write_file .* · not started/)

    const end = await runReplay([sessionId, "--store", file])
    expect(end.code).toBe(0)
    expect(end.stdout).toMatch(/done\s+hello.sh written/)

    const json = await runReplay([sessionId, "--until", "6", "--json", "--store", file])
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout) as {
      session: string
      until: number
      aggregates: ReadonlyArray<{
        aggregateId: string
        family: string
        version: number
        state: Record<string, unknown>
      }>
    }
    expect(parsed.session).toBe(sessionId)
    expect(parsed.until).toBe(6)
    const thread = parsed.aggregates.find((a) => a.family === "thread")
    expect(thread?.version).toBe(4)
    expect(thread?.state).toMatchObject({
      status: "Agent",
      steps: 1,
      usage: { inputTokens: 100, outputTokens: 20 },
      calls: [{ call: { name: "write_file" }, started: true, result: { output: "wrote 8 bytes" } }]
    })
    expect(Array.isArray(thread?.state.history)).toBe(true)
    expect(thread?.state.history).toHaveLength(3)
    const record = parsed.aggregates.find((a) => a.family === "session")
    expect(record?.state).toMatchObject({
      started: { _tag: "SessionStarted", workdir: "/tmp/work" },
      resumed: []
    })
  })

  it("exits 2 for an unknown session, a --until before it, and a store that does not exist", async () => {
    const file = tempStore()
    const sessionId = newId()
    const other = newId()
    await inStore(file, threadSession(sessionId, other))

    const unknown = await runReplay(["t-00000000", "--store", file])
    expect(unknown.code).toBe(2)
    expect(unknown.message).toContain("no session t-00000000")

    // The other session's only event is #3.
    const before = await runReplay([other, "--until", "2", "--store", file])
    expect(before.code).toBe(2)
    expect(before.message).toContain(`--until 2 is before the first event of session ${other} (#3)`)
    expect((await runReplay([other, "--until", "3", "--store", file])).code).toBe(0)

    const missing = join(mkdtempSync(join(tmpdir(), "dabgent-replay-")), "nope", "events.db")
    const none = await runReplay([sessionId, "--store", missing])
    expect(none.code).toBe(2)
    expect(existsSync(missing)).toBe(false)
  })
})
