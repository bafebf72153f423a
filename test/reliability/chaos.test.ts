/**
 * Chaos: a planned session run by the real CLI is killed with SIGKILL at random points (while
 * planning, dispatching, in model turns, mid-tool, while resuming) and resumed each time until it
 * completes. Afterwards every task is done, no tool call ran twice (each call appends its own
 * line to a marker file), and the log has no gap and no duplicate.
 *
 * The kill points come from a seeded generator: the seed is printed, and
 * `DABGENT_CHAOS_SEED=<seed>` replays the same delays. When a session completes before 20 kills
 * have landed, another session is started, so all 20 kills hit a running session.
 */
import { describe, expect, it } from "vitest"
import * as Schema from "effect/Schema"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { randomInt } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as EventCodec from "../../src/events/EventCodec.js"
import * as EventLog from "../../src/events/EventLog.js"
import { PlannerEvents } from "../../src/events/PlannerEvents.js"
import { ThreadEvents } from "../../src/events/ThreadEvents.js"
import { EventStore, type StoredEvent } from "../../src/store/index.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import { collect, startCli, waitForOutput, type CliResult } from "../support/cli.js"
import * as FakeChat from "../support/fakeChatServer.js"

const killsWanted = 20
const stepsPerTask = 3

const plan = {
  tasks: [
    { id: "a", description: "part a", kind: "tool_call", dependencies: [] },
    { id: "b", description: "part b", kind: "tool_call", dependencies: [] },
    { id: "c", description: "extend a", kind: "tool_call", dependencies: ["a"] },
    { id: "d", description: "join a and b", kind: "processing", dependencies: ["a", "b"] },
    { id: "e", description: "finish", kind: "processing", dependencies: ["c", "d"] }
  ]
}
const taskIds = plan.tasks.map((task) => task.id)

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
const seeded = (seed: number) => {
  let state = seed >>> 0
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The parts of a chat-completions request the fake model looks at. */
const Body = Schema.Struct({
  tools: Schema.optional(Schema.Array(Schema.Unknown)),
  messages: Schema.Array(Schema.Struct({ role: Schema.String, content: Schema.optional(Schema.Unknown) }))
})

/**
 * The planner gets the plan; each task runs `stepsPerTask` bash calls, each appending
 * `<task>:<step>` to `runs-<task>.txt` before it sleeps, then calls done. A call reported as
 * interrupted counts as a step: the model moves on and never asks for it again.
 */
const model = (request: FakeChat.RecordedRequest): FakeChat.FakeResponse => {
  const body = Schema.decodeUnknownSync(Body)(request.body)
  if (body.tools === undefined || body.tools.length === 0) return { text: JSON.stringify(plan) }
  const task = /Your task \(([^,]+),/.exec(JSON.stringify(body.messages))?.[1] ?? "unknown"
  const step = body.messages.filter((m) => m.role === "tool").length + 1
  if (step > stepsPerTask) return { toolCalls: [{ name: "done", params: { summary: `did ${task}` } }] }
  return {
    toolCalls: [{ name: "bash", params: { command: `echo ${task}:${step} >> runs-${task}.txt; sleep 0.2` } }]
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const readAll = (filename: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* EventStore
      const raw = Chunk.toReadonlyArray(yield* Stream.runCollect(store.read({ streamId: "dabgent" })))
      const threads = Chunk.toReadonlyArray(
        yield* Stream.runCollect(
          EventLog.make(store, EventCodec.make(ThreadEvents)).read({ streamId: "dabgent" })
        )
      )
      const planners = Chunk.toReadonlyArray(
        yield* Stream.runCollect(
          EventLog.make(store, EventCodec.make(PlannerEvents)).read({ streamId: "dabgent" })
        )
      )
      return { raw, threads, planners }
    }).pipe(Effect.provide(SqliteEventStore.layer({ filename })))
  )

describe("chaos: SIGKILL at random points of planned sessions", () => {
  it(`${killsWanted} kills, a resume after each: every task done, no tool ran twice, no event lost or repeated`, async () => {
    const seed = Number(process.env.DABGENT_CHAOS_SEED ?? randomInt(2 ** 31))
    console.log(`chaos seed ${seed} (replay with DABGENT_CHAOS_SEED=${seed})`)
    const random = seeded(seed)
    const dir = mkdtempSync(join(tmpdir(), "dabgent-chaos-"))
    const storeFile = join(dir, "events.db")
    const server = await FakeChat.start({ handler: model })
    const base = ["--model", "openai-compat:m", "--base-url", server.url, "--sandbox", "local"]
    const started = Date.now()
    const history: Array<string> = []
    const sessions: Array<{ readonly id: string; readonly workdir: string }> = []
    let kills = 0

    /** One run of the CLI, killed at a random point unless it ends first. */
    const cycle = async (args: ReadonlyArray<string>, mayKill: boolean): Promise<CliResult> => {
      const child = startCli(args, { cwd: dir })
      const result = collect(child, 90_000)
      if (mayKill) {
        // Mostly shortly after the run announced its session (catch-up, turns, tools); sometimes
        // at any moment from the start (loading, opening the store, recording the resume).
        const early = args[0] === "resume" && random() < 0.25
        const delay = Math.round(random() * (early ? 3000 : 1500))
        if (!early) await waitForOutput(child, /session p-[0-9a-f]+/)
        await sleep(delay)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
        const outcome = await result
        history.push(
          `${args[0]} ${early ? "from start" : "after ready"} +${delay} ms: ${outcome.signal ?? outcome.code}`
        )
        if (outcome.signal === "SIGKILL") kills += 1
        return outcome
      }
      return result
    }

    const ended = (result: CliResult) => {
      if (result.signal === "SIGKILL") return false
      if (result.code !== 0)
        throw new Error(`dabgent exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`)
      return true
    }

    try {
      while (kills < killsWanted) {
        const workdir = join(dir, `work-${sessions.length + 1}`)
        mkdirSync(workdir)
        const first = await cycle(
          ["coordinate", "build a to e", ...base, "--store", storeFile, "--workdir", workdir],
          true
        )
        const id = /session (p-[0-9a-f]+)/.exec(first.stderr)?.[1]
        if (id === undefined) throw new Error(`no session id in:\n${first.stderr}`)
        sessions.push({ id, workdir })
        let done = ended(first)
        while (!done && kills < killsWanted)
          done = ended(await cycle(["resume", id, "--store", storeFile], true))
        while (!done) done = ended(await cycle(["resume", id, "--store", storeFile], false))
      }
      console.log(
        `chaos: ${kills} kills over ${sessions.length} session(s) in ${Math.round((Date.now() - started) / 1000)} s\n  ${history.join("\n  ")}`
      )

      const { planners, raw, threads } = await readAll(storeFile)
      // The whole log: sequences 1..N, each aggregate's versions 1..k, no (aggregate, version) twice.
      expect(raw.map((e) => e.sequence)).toEqual(raw.map((_, i) => i + 1))
      const versions = new Map<string, Array<number>>()
      for (const event of raw)
        versions.set(event.aggregateId, [...(versions.get(event.aggregateId) ?? []), event.version])
      for (const [aggregateId, list] of versions) {
        expect({ aggregateId, versions: list }).toEqual({ aggregateId, versions: list.map((_, i) => i + 1) })
      }

      let interrupted = 0
      for (const session of sessions) {
        const completions = planners.filter(
          (d) => d.stored.aggregateId === session.id && d.event._tag === "PlanningCompleted"
        )
        expect(completions.map((d) => d.event)).toMatchObject([
          { outcome: "all_done", failed: [], skipped: [] }
        ])
        const completion = completions[0]?.event
        if (completion?._tag === "PlanningCompleted")
          expect([...completion.completed].sort()).toEqual(taskIds)

        for (const task of taskIds) {
          const aggregateId = `${session.id}/task-${task}`
          const events = threads.filter((d) => d.stored.aggregateId === aggregateId).map((d) => d.event)
          expect(events.filter((e) => e._tag === "ThreadDone").length).toBe(1)
          // Each call started once and got one result.
          const startedCalls = events.flatMap((e) => (e._tag === "ToolStarted" ? [e.callId] : []))
          const results = events.flatMap((e) => (e._tag === "ToolCompleted" ? [e] : []))
          expect(new Set(startedCalls).size).toBe(startedCalls.length)
          expect(results.map((r) => r.callId).sort()).toEqual([...startedCalls].sort())
          // What each bash call appends, by call id.
          const lineOf = new Map<string, string>()
          for (const e of events) {
            if (e._tag !== "LlmCompleted") continue
            for (const call of e.toolCalls) {
              const line = /echo (\S+) >>/.exec(JSON.stringify(call.params))?.[1]
              if (line !== undefined) lineOf.set(call.id, line)
            }
          }
          const marker = join(session.workdir, `runs-${task}.txt`)
          const lines = existsSync(marker)
            ? readFileSync(marker, "utf8")
                .split("\n")
                .filter((l) => l !== "")
            : []
          // No call ran twice, and nothing ran that the log does not know as started.
          expect(new Set(lines).size).toBe(lines.length)
          const startedLines = startedCalls.map((id) => lineOf.get(id))
          for (const line of lines) expect(startedLines).toContain(line)
          for (const result of results) {
            const wasInterrupted = result.isError && JSON.stringify(result.result).includes("interrupted")
            if (wasInterrupted) interrupted += 1
            // A call that ran to its result wrote its line exactly once.
            else if (result.name === "bash") expect(lines).toContain(lineOf.get(result.callId))
          }
        }
      }
      console.log(`chaos: ${interrupted} tool call(s) were interrupted by a kill and reported, not rerun`)
      const sessionEvents = (e: StoredEvent) => e.type.startsWith("session.")
      expect(raw.filter(sessionEvents).length).toBeGreaterThanOrEqual(sessions.length)
    } finally {
      await server.close()
    }
  }, 300_000)
})
