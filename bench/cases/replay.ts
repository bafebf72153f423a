/**
 * Replay: read + Schema-decode + fold of a stream of thread events (1,000 sessions of 200
 * events: prompt, then turns of LlmCompleted / ToolStarted / ToolCompleted, then done) into
 * every session's `ThreadState`, against a raw SELECT + JSON.parse of the same rows. SQLite,
 * and Postgres when configured. Interleaved rounds, median.
 */
import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { ThreadEvents } from "../../src/events/ThreadEvents.js"
import { EventStore } from "../../src/store/EventStore.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import {
  LlmCompleted,
  Prompted,
  ThreadDone,
  ToolCompleted,
  ToolStarted,
  type ThreadEvent
} from "../../src/thread/ThreadEvent.js"
import { threadHandler } from "../../src/thread/ThreadHandler.js"
import { initialThreadState, type ThreadState } from "../../src/thread/ThreadState.js"
import { threadLog } from "../../src/workers/ThreadSource.js"
import {
  median,
  noDatabase,
  ratioResult,
  rotated,
  skipped,
  type BenchCase,
  type Result
} from "../lib/common.js"

const perSession = 200

/** One session's 200 events. */
const sessionEvents = (session: number): Array<ThreadEvent> => {
  const events: Array<ThreadEvent> = [
    new Prompted({
      prompt: `Fix the failing test in module ${session} and explain the cause.`,
      maxSteps: 100
    })
  ]
  let step = 0
  while (events.length < perSession - 1) {
    step++
    const callId = `call_${step}`
    const last = events.length + 3 >= perSession - 1
    const name = last ? "done" : step % 3 === 0 ? "read_file" : "bash"
    const params = last
      ? { summary: "fixed the off-by-one in the parser" }
      : name === "bash"
        ? { command: `npm test -- --grep 'case ${step}'` }
        : { path: `src/module${step}.ts` }
    events.push(
      new LlmCompleted({
        text: `Step ${step}: let me look at what the test says and run it again to see the output.`,
        toolCalls: [{ id: callId, name, params }],
        usage: { inputTokens: 1200 + step * 40, outputTokens: 60 },
        finishReason: "tool-calls"
      }),
      new ToolStarted({ callId, name }),
      new ToolCompleted({
        callId,
        name,
        result: `exit 0\n${"PASS src/module.test.ts > parses the input line by line\n".repeat(8)}`,
        isError: false
      })
    )
  }
  events.push(new ThreadDone({ summary: "fixed the off-by-one in the parser" }))
  return events
}

/** Appends `sessions` sessions to `streamId`, a session's events in appends of up to 50. */
const populate = (store: EventStore["Type"], streamId: string, sessions: number) =>
  Effect.forEach(
    Array.from({ length: sessions }, (_, i) => i),
    (session) => {
      const events = sessionEvents(session)
      const chunks = Array.from({ length: Math.ceil(events.length / 50) }, (_, i) =>
        events.slice(i * 50, i * 50 + 50)
      )
      return Effect.forEach(
        chunks,
        (chunk, i) =>
          threadLog(store).append(ThreadEvents, {
            streamId,
            aggregateId: `s${session}`,
            events: chunk,
            expectedVersion: i * 50,
            metadata: { correlationId: `s${session}` }
          }),
        { discard: true }
      )
    },
    { discard: true, concurrency: 4 }
  )

/** The dabgent replay: every session's state, folded from the decoded log. */
const fold = (store: EventStore["Type"], streamId: string) =>
  Stream.runFold(threadLog(store).read({ streamId }), new Map<string, ThreadState>(), (states, decoded) => {
    const id = decoded.stored.aggregateId
    states.set(id, threadHandler.apply(states.get(id) ?? initialThreadState, decoded.event))
    return states
  })

const columns = "stream_id, sequence, aggregate_id, version, type, data, metadata, created_at"

const compare = async (
  label: string,
  total: number,
  rounds: number,
  dabgent: () => Promise<number>,
  raw: () => Promise<number>,
  log: (message: string) => void
): Promise<Result> => {
  const runs = { dabgent, raw }
  const samples = { dabgent: [] as Array<number>, raw: [] as Array<number> }
  await dabgent()
  await raw()
  for (let round = 0; round < rounds; round++) {
    for (const name of rotated(["dabgent", "raw"] as const, round)) {
      const start = performance.now()
      const count = await runs[name]()
      if (count !== total) throw new Error(`${label} ${name}: read ${count} events, expected ${total}`)
      samples[name].push(total / ((performance.now() - start) / 1000))
    }
    log(
      `${label} round ${round + 1}/${rounds}: dabgent ${Math.round(samples.dabgent.at(-1) ?? 0)}/s, raw ${Math.round(samples.raw.at(-1) ?? 0)}/s`
    )
  }
  return ratioResult(
    `replay ${label} ${total.toLocaleString("en-US")} events`,
    median(samples.dabgent),
    median(samples.raw),
    "events/s",
    0.6
  )
}

export const replay: BenchCase = {
  name: "replay",
  description: "read + decode + fold of thread events vs raw SELECT + JSON.parse",
  run: async ({ quick, databaseUrl, runId, log }) => {
    const sessions = quick ? 100 : 1000
    const total = sessions * perSession
    const rounds = quick ? 3 : 5
    const out: Array<Result> = []
    const dir = mkdtempSync(join(tmpdir(), "dabgent-bench-"))
    const file = join(dir, "events.db")
    const sqlite = ManagedRuntime.make(SqliteEventStore.layer({ filename: file }))
    try {
      const store = await sqlite.runPromise(EventStore)
      await sqlite.runPromise(populate(store, "replay", sessions))
      const db = new Database(file, { readonly: true })
      const select = db.prepare<[string], { aggregate_id: string; data: string; metadata: string }>(
        `SELECT ${columns} FROM dabgent_events WHERE stream_id = ? ORDER BY sequence`
      )
      out.push(
        await compare(
          "sqlite",
          total,
          rounds,
          () => sqlite.runPromise(Effect.map(fold(store, "replay"), (states) => states.size * perSession)),
          async () => {
            let count = 0
            for (const row of select.iterate("replay")) {
              JSON.parse(row.data)
              JSON.parse(row.metadata)
              count++
            }
            return count
          },
          log
        )
      )
      db.close()
    } finally {
      await sqlite.dispose()
      rmSync(dir, { recursive: true, force: true })
    }

    if (databaseUrl === undefined) {
      out.push(skipped(`replay pg ${total.toLocaleString("en-US")} events`, "events/s", noDatabase))
      return out
    }
    const streamId = `${runId}-replay`
    const pgStore = ManagedRuntime.make(
      PgEventStore.layer({ url: Redacted.make(databaseUrl), maxConnections: 4 })
    )
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      const store = await pgStore.runPromise(EventStore)
      await pgStore.runPromise(populate(store, streamId, sessions))
      out.push(
        await compare(
          "pg",
          total,
          rounds,
          () => pgStore.runPromise(Effect.map(fold(store, streamId), (states) => states.size * perSession)),
          // node-pg parses json columns with JSON.parse as rows arrive.
          async () =>
            (
              await client.query({
                name: "replay",
                text: `SELECT ${columns} FROM dabgent_events WHERE stream_id = $1 ORDER BY sequence`,
                values: [streamId]
              })
            ).rows.length,
          log
        )
      )
    } finally {
      await client.query(`DELETE FROM dabgent_events WHERE stream_id = $1`, [streamId])
      await client.query(`DELETE FROM dabgent_streams WHERE stream_id = $1`, [streamId])
      await client.end()
      await pgStore.dispose()
    }
    return out
  }
}
