/**
 * `dabgent fork`: the fork's log is the original's prefix under new aggregate ids with the same
 * versions, the original is untouched, and `resume` (the real CLI) continues the fork on another
 * path. Sessions are written through the typed logs or by a real `dabgent thread` run.
 */
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, inject, it, vi } from "vitest"
import { ExitCode } from "../../src/cli/ExitCode.js"
import { fork } from "../../src/cli/ForkCommand.js"
import * as SessionFork from "../../src/cli/SessionFork.js"
import * as SessionHistory from "../../src/cli/SessionHistory.js"
import * as SessionReplay from "../../src/cli/SessionReplay.js"
import * as StoreLocation from "../../src/cli/StoreLocation.js"
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
import type { StoredEvent } from "../../src/store/StoredEvent.js"
import {
  LlmCompleted,
  Prompted,
  ThreadDone,
  ToolCompleted,
  ToolStarted
} from "../../src/thread/ThreadEvent.js"
import { runCli } from "../support/cli.js"
import * as FakeChat from "../support/fakeChatServer.js"

const streamId = "dabgent"
const newId = () => `t-${randomBytes(4).toString("hex")}`
const tempDir = () => mkdtempSync(join(tmpdir(), "dabgent-fork-"))
const tempStore = () => join(tempDir(), "events.db")

const inStore = <A, E>(store: string, effect: Effect.Effect<A, E, EventStore>) =>
  Effect.runPromise(Effect.provide(effect, StoreLocation.layer(StoreLocation.parse(store))))

const sessionEvents = (store: string, sessionId: string) =>
  inStore(
    store,
    Effect.flatMap(SessionHistory.load(sessionId, streamId), (found) =>
      Effect.succeed(Option.match(found, { onNone: () => [], onSome: (history) => history.events }))
    )
  )

const replayed = (store: string, sessionId: string, until = Number.MAX_SAFE_INTEGER) =>
  inStore(
    store,
    Effect.flatMap(SessionHistory.load(sessionId, streamId), (found) =>
      Option.isSome(found)
        ? SessionReplay.replay(found.value, until)
        : Effect.dieMessage(`no session ${sessionId}`)
    )
  )

/** Runs the `fork` command in-process as `dabgent fork ...args`, capturing its output. */
const runFork = async (args: ReadonlyArray<string>) => {
  const stdout: Array<string> = []
  const stderr: Array<string> = []
  vi.spyOn(console, "log").mockImplementation((...parts: Array<unknown>) => void stdout.push(parts.join(" ")))
  vi.spyOn(console, "error").mockImplementation(
    (...parts: Array<unknown>) => void stderr.push(parts.join(" "))
  )
  const app = Command.make("dabgent").pipe(Command.withSubcommands([fork]))
  const exit = await Effect.runPromiseExit(
    Command.run(app, { name: "dabgent", version: "test" })(["node", "dabgent", "fork", ...args]).pipe(
      Effect.provide(NodeContext.layer)
    )
  )
  vi.restoreAllMocks()
  const failure = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
  return {
    code: Exit.isSuccess(exit) ? 0 : failure instanceof ExitCode ? failure.code : -1,
    message: failure instanceof ExitCode ? failure.message : String(failure ?? ""),
    stdout: stdout.join("\n"),
    stderr: stderr.join("\n")
  }
}

const forkedId = (stdout: string): string => {
  const match = /continue with: dabgent resume (\S+)/.exec(stdout)
  if (match?.[1] === undefined) throw new Error(`no fork id in:\n${stdout}`)
  return match[1]
}

/** What must survive a fork: everything but the session prefix, the sequence and the time. */
const shape = (sessionId: string) => (event: StoredEvent) => ({
  aggregate: event.aggregateId.slice(sessionId.length),
  version: event.version,
  type: event.type,
  data: event.data
})

/**
 * A thread session with its record and another session's events interleaved:
 * #1 record, #2 Prompted, #3 other, #4 LlmCompleted(write_file), #5 ToolStarted, #6 other,
 * #7 ToolCompleted, #8 LlmCompleted(done), #9 ToolStarted, #10 ToolCompleted + #11 ThreadDone.
 */
const threadSession = (sessionId: string, other: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const thread = EventLog.make(store, EventCodec.make(ThreadEvents))
    const session = EventLog.make(store, EventCodec.make(SessionEvents))
    const meta = { correlationId: sessionId, causationId: "test" }
    const append = (events: ReadonlyArray<typeof ThreadEvents.schema.Type>, expectedVersion: number) =>
      thread.append(ThreadEvents, {
        streamId,
        aggregateId: sessionId,
        events,
        expectedVersion,
        metadata: meta
      })
    const noise = (expectedVersion: number) =>
      thread.append(ThreadEvents, {
        streamId,
        aggregateId: other,
        expectedVersion,
        events: [
          expectedVersion === 0
            ? new Prompted({ prompt: "another task", maxSteps: 5 })
            : new ThreadDone({ summary: "other done" })
        ]
      })
    yield* session.append(SessionEvents, {
      streamId,
      aggregateId: sessionAggregateId(sessionId),
      expectedVersion: 0,
      metadata: meta,
      events: [
        new SessionStarted({
          mode: "thread",
          input: "write hello.sh",
          model: "openai-compat:test-model",
          workdir: "/tmp/original-workdir",
          sandbox: "local",
          allowNetwork: false,
          maxSteps: 10
        })
      ]
    })
    yield* append([new Prompted({ prompt: "write hello.sh", maxSteps: 10 })], 0)
    yield* noise(0)
    yield* append(
      [
        new LlmCompleted({
          text: "I'll write it.",
          toolCalls: [{ id: "c1", name: "write_file", params: { path: "hello.sh", content: "echo hi\n" } }],
          usage: { inputTokens: 100, outputTokens: 20 },
          finishReason: "tool-calls"
        })
      ],
      1
    )
    yield* append([new ToolStarted({ callId: "c1", name: "write_file" })], 2)
    yield* noise(1)
    yield* append([new ToolCompleted({ callId: "c1", name: "write_file", result: "ok", isError: false })], 3)
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

afterEach(() => {
  vi.restoreAllMocks()
})

describe("SessionFork helpers", () => {
  it("keeps the kind of id and renames only the session prefix", () => {
    const forked = SessionFork.forkIdFor("t-1a2b3c4d")
    expect(forked).toMatch(/^t-[0-9a-f]{8}$/)
    expect(forked).not.toBe("t-1a2b3c4d")
    expect(SessionFork.forkIdFor("p-00ff00ff")).toMatch(/^p-[0-9a-f]{8}$/)
    expect(SessionFork.forkIdFor("custom")).toMatch(/^t-[0-9a-f]{8}$/)
    expect(SessionFork.renameAggregate("t-1", "t-1", "t-2")).toBe("t-2")
    expect(SessionFork.renameAggregate("t-1/task-7", "t-1", "t-2")).toBe("t-2/task-7")
    expect(SessionFork.renameAggregate("t-1/session", "t-1", "t-2")).toBe("t-2/session")
  })

  it("plans one append per run of one aggregate with equal metadata, in stream order", () => {
    const event = (
      sequence: number,
      aggregateId: string,
      metadata: Record<string, unknown> = {}
    ): StoredEvent => ({
      streamId,
      aggregateId,
      sequence,
      version: sequence,
      type: "thread.X",
      data: {},
      metadata,
      createdAt: new Date(0)
    })
    const plan = SessionFork.batches([
      event(1, "s/session"),
      event(2, "s"),
      event(3, "s"),
      event(4, "s/task-1"),
      event(5, "s"),
      event(6, "s", { causationId: "x" })
    ])
    expect(plan.map((batch) => [batch.aggregateId, batch.events.map((e) => e.sequence)])).toEqual([
      ["s/session", [1]],
      ["s", [2, 3]],
      ["s/task-1", [4]],
      ["s", [5]],
      ["s", [6]]
    ])
  })
})

const stores = (): ReadonlyArray<{ name: string; store: () => string }> => [
  { name: "sqlite", store: tempStore },
  { name: "postgres", store: () => inject("databaseUrl") }
]

for (const { name, store: makeStore } of stores()) {
  describe(`dabgent fork (${name})`, () => {
    it(`[${name}] copies the prefix under new ids with the same versions; the original is untouched`, async () => {
      const store = makeStore()
      const original = newId()
      await inStore(store, threadSession(original, newId()))
      const before = await sessionEvents(store, original)
      // Fork after the write_file result: the original's #7 (counted from the session's start).
      const at = before.find((e) => e.type === "thread.ToolCompleted")?.sequence ?? 0
      expect(at).toBe((before[0]?.sequence ?? 0) + 6)

      const result = await runFork([original, "--at", String(at), "--store", store])
      expect(result.code).toBe(0)
      const copy = forkedId(result.stdout)
      expect(copy).toMatch(/^t-[0-9a-f]{8}$/)
      expect(result.stdout).toContain(`forked ${original} at #${at} into ${copy} (5 events copied)`)
      expect(result.stderr).toContain("/tmp/original-workdir")

      const forked = await sessionEvents(store, copy)
      const prefix = before.filter((e) => e.sequence <= at)
      expect(forked.map(shape(copy))).toEqual(prefix.map(shape(original)))
      expect(forked.map((e) => e.aggregateId)).toEqual([`${copy}/session`, copy, copy, copy, copy])
      for (const event of forked) {
        expect(event.metadata).toEqual({
          correlationId: copy,
          causationId: "test",
          forkedFrom: { session: original, sequence: at }
        })
      }
      expect(await sessionEvents(store, original)).toEqual(before)

      // The fork replays to exactly the state the original had at the fork point.
      // (Everything but the stream positions, which are the copy's own.)
      const states = (replay: SessionReplay.SessionReplay, sessionId: string) =>
        JSON.stringify(
          SessionReplay.toJson(replay).aggregates.map(({ lastSequence: _, ...rest }) => rest)
        ).replaceAll(sessionId, "<s>")
      expect(states(await replayed(store, copy), copy)).toBe(
        states(await replayed(store, original, at), original)
      )
      expect(SessionReplay.render(await replayed(store, copy))[0]).toContain(
        `forked from ${original} at #${at}`
      )
      expect((await replayed(store, original)).forkedFrom).toBeUndefined()
      const thread = (await replayed(store, copy)).aggregates.find((a) => a.family === "thread")
      expect(thread?.family === "thread" && thread.state.status).toBe("Agent")

      // --json names the fork and where it came from.
      const again = await runFork([original, "--at", String(at), "--store", store, "--json"])
      expect(again.code).toBe(0)
      expect(JSON.parse(again.stdout)).toMatchObject({
        forkedFrom: { session: original, sequence: at },
        events: 5
      })
    })
  })
}

describe("dabgent fork", () => {
  it("copies a planner session's task aggregates with their interleaving", async () => {
    const store = tempStore()
    const original = `p-${randomBytes(4).toString("hex")}`
    await inStore(
      store,
      Effect.gen(function* () {
        const eventStore = yield* EventStore
        const planner = EventLog.make(eventStore, EventCodec.make(PlannerEvents))
        const thread = EventLog.make(eventStore, EventCodec.make(ThreadEvents))
        yield* planner.append(PlannerEvents, {
          streamId,
          aggregateId: original,
          events: [
            new PlanningStarted({ input: "two tasks", attachments: [], maxParallel: 2 }),
            new TasksPlanned({
              tasks: [
                new TaskSpec({ id: "1", description: "one", kind: "tool_call", dependencies: [] }),
                new TaskSpec({ id: "2", description: "two", kind: "tool_call", dependencies: [] })
              ]
            }),
            new TaskDispatched({ taskId: "1", kind: "tool_call", description: "one" }),
            new TaskDispatched({ taskId: "2", kind: "tool_call", description: "two" })
          ]
        })
        for (const task of ["1", "2"]) {
          yield* thread.append(ThreadEvents, {
            streamId,
            aggregateId: `${original}/task-${task}`,
            events: [new Prompted({ prompt: `task ${task}`, maxSteps: 3 })]
          })
        }
        yield* thread.append(ThreadEvents, {
          streamId,
          aggregateId: `${original}/task-1`,
          events: [new ThreadDone({ summary: "one done" })]
        })
        yield* planner.append(PlannerEvents, {
          streamId,
          aggregateId: original,
          events: [new TaskStatusUpdated({ taskId: "1", status: "completed", result: "one done" })]
        })
        yield* thread.append(ThreadEvents, {
          streamId,
          aggregateId: `${original}/task-2`,
          events: [new ThreadDone({ summary: "two done" })]
        })
      })
    )
    const before = await sessionEvents(store, original)
    const at = before.find((e) => e.type === "planner.TaskStatusUpdated")?.sequence ?? 0
    const result = await runFork([original, "--at", String(at), "--store", store])
    expect(result.code).toBe(0)
    const copy = forkedId(result.stdout)
    expect(copy).toMatch(/^p-[0-9a-f]{8}$/)
    const forked = await sessionEvents(store, copy)
    expect(forked.map(shape(copy))).toEqual(before.filter((e) => e.sequence <= at).map(shape(original)))
    expect(forked.map((e) => [e.aggregateId.slice(copy.length), e.version])).toEqual([
      ["", 1],
      ["", 2],
      ["", 3],
      ["", 4],
      ["/task-1", 1],
      ["/task-2", 1],
      ["/task-1", 2],
      ["", 5]
    ])
    const text = SessionReplay.render(await replayed(store, copy)).join("\n")
    expect(text).toMatch(/task 1\s+completed/)
    expect(text).toMatch(/task 2\s+running/)
  })

  it("exits 2 for an unknown session or an --at outside the session, and writes nothing", async () => {
    const store = tempStore()
    const original = newId()
    const other = newId()
    await inStore(store, threadSession(original, other))
    const head = () =>
      inStore(
        store,
        Effect.flatMap(EventStore, (s) => s.head(streamId))
      )
    const headBefore = await head()

    const unknown = await runFork(["t-00000000", "--at", "1", "--store", store])
    expect(unknown.code).toBe(2)
    expect(unknown.message).toContain("no session t-00000000")

    // The other session spans #3 to #6.
    const early = await runFork([other, "--at", "2", "--store", store])
    expect(early.code).toBe(2)
    expect(early.message).toContain(`--at 2 is outside session ${other} (#3 to #6)`)
    const late = await runFork([other, "--at", "7", "--store", store])
    expect(late.code).toBe(2)
    const missingAt = await runFork([other, "--store", store])
    expect(missingAt.code).toBe(-1)

    expect(await head()).toBe(headBefore)
    const missing = join(tempDir(), "none", "events.db")
    expect((await runFork([original, "--at", "1", "--store", missing])).code).toBe(2)
    expect(existsSync(missing)).toBe(false)
  })

  it("a fork made mid-run resumes on a different path; the original keeps its own ending", async () => {
    const dir = tempDir()
    const store = join(dir, ".dabgent", "events.db")
    const first = await FakeChat.start({
      turns: [
        {
          text: "I'll write the script.",
          toolCalls: [{ name: "write_file", params: { path: "hello.sh", content: "echo hello\n" } }],
          usage: { inputTokens: 100, outputTokens: 20 }
        },
        { toolCalls: [{ name: "bash", params: { command: "bash hello.sh" } }] },
        { toolCalls: [{ name: "done", params: { summary: "ran hello.sh" } }] }
      ]
    })
    const second = await FakeChat.start({
      turns: [
        { toolCalls: [{ name: "write_file", params: { path: "other.txt", content: "the other path\n" } }] },
        { toolCalls: [{ name: "done", params: { summary: "took the other path" } }] }
      ]
    })
    try {
      const run = await runCli(
        [
          "thread",
          "write hello.sh and run it",
          "--model",
          "openai-compat:test-model",
          "--base-url",
          first.url,
          "--store",
          store,
          "--sandbox",
          "local"
        ],
        { cwd: dir }
      )
      expect(run.code).toBe(0)
      const original = /session (t-[0-9a-f]+)/.exec(run.stderr)?.[1] ?? ""
      const before = await sessionEvents(store, original)
      const afterWrite = before.find((e) => e.type === "thread.ToolCompleted")?.sequence ?? 0

      const forkRun = await runFork([original, "--at", String(afterWrite), "--store", store])
      expect(forkRun.code).toBe(0)
      const copy = forkedId(forkRun.stdout)

      const elsewhere = tempDir()
      const resumed = await runCli(
        ["resume", copy, "--store", store, "--base-url", second.url, "--workdir", elsewhere],
        { cwd: dir }
      )
      expect(resumed.stderr).not.toContain("Error")
      expect(resumed.code).toBe(0)
      expect(resumed.stdout).toContain("✔ done: took the other path")
      expect(readFileSync(join(elsewhere, "other.txt"), "utf8")).toBe("the other path\n")
      // The fork's model saw the original's first turn and tool result, then took over.
      const firstRequest = second.chatBodies()[0] as { messages: ReadonlyArray<{ role: string }> }
      expect(firstRequest.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"])

      const forkState = (await replayed(store, copy)).aggregates
      const forkThread = forkState.find((a) => a.family === "thread")
      expect(
        forkThread?.family === "thread" && forkThread.state.status === "Done" && forkThread.state.summary
      ).toBe("took the other path")
      expect(await sessionEvents(store, original)).toEqual(before)
      const originalThread = (await replayed(store, original)).aggregates.find((a) => a.family === "thread")
      expect(
        originalThread?.family === "thread" &&
          originalThread.state.status === "Done" &&
          originalThread.state.summary
      ).toBe("ran hello.sh")
      expect(existsSync(join(elsewhere, "hello.sh"))).toBe(false)
      // Both sessions are listed.
      const sessions = await runCli(["sessions", "--json", "--store", store], { cwd: dir })
      const ids = sessions.stdout
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { id: string }).id)
      expect(ids).toEqual(expect.arrayContaining([original, copy]))
    } finally {
      await first.close()
      await second.close()
    }
  })
})
