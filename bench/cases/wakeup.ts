/**
 * Subscription wake-up: the time from an append's commit (the append returning) to a live
 * subscriber receiving the event, p50 and p99, one append at a time.
 *
 * - Postgres, same store: the subscriber shares the appender's store (in-process wake-up).
 * - Postgres, other store: the subscriber has its own store (pool and LISTEN connection), as
 *   another process would; it is woken by `pg_notify`. Baseline: raw LISTEN/NOTIFY between two
 *   `pg` clients (NOTIFY acknowledged → notification received).
 * - SQLite, same store. Baseline: a raw in-process wake-up (an EventEmitter) then a prepared
 *   SELECT of the new row and JSON.parse, with better-sqlite3.
 */
import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { EventEmitter } from "node:events"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { EventStore } from "../../src/store/EventStore.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import {
  maxResult,
  noDatabase,
  payload1k,
  percentile,
  skipped,
  sleep,
  sortedCopy,
  type BenchCase,
  type Result
} from "../lib/common.js"

const data = payload1k()

/** Latencies (ms) of `n` appends, each awaited by the subscriber before the next. */
const measure = (
  appender: EventStore["Type"],
  subscriber: EventStore["Type"],
  streamId: string,
  n: number
): Effect.Effect<Array<number>, unknown> =>
  Effect.scoped(
    Effect.gen(function* () {
      const received = yield* Queue.unbounded<number>()
      const head = yield* subscriber.head(streamId)
      const fiber = yield* Effect.forkScoped(
        Stream.runForEach(subscriber.subscribe({ streamId, fromSequence: head }), () =>
          Queue.offer(received, performance.now())
        )
      )
      const latencies: Array<number> = []
      // The first few appends warm up the subscriber (and make sure it is live).
      for (let i = 0; i < n + 20; i++) {
        yield* appender.append({
          streamId,
          aggregateId: "a",
          events: [{ type: "thread.ToolCompleted", data }]
        })
        const committed = performance.now()
        const at = yield* Queue.take(received)
        if (i >= 20) latencies.push(Math.max(0, at - committed))
        // A short pause, as between real appends; it lets the subscriber go back to waiting.
        yield* Effect.promise(() => sleep(1))
      }
      yield* Fiber.interrupt(fiber)
      return latencies
    })
  )

const results = (
  name: string,
  latencies: ReadonlyArray<number>,
  baseline?: ReadonlyArray<number>,
  note?: string
): Array<Result> => {
  const sorted = sortedCopy(latencies)
  const base = baseline === undefined ? undefined : sortedCopy(baseline)
  return [
    maxResult(`${name} p50`, percentile(sorted, 50), "ms", 1, {
      ...(base === undefined ? {} : { baseline: percentile(base, 50) }),
      ...(note === undefined ? {} : { note })
    }),
    maxResult(`${name} p99`, percentile(sorted, 99), "ms", 5, {
      ...(base === undefined ? {} : { baseline: percentile(base, 99) })
    })
  ]
}

const rawNotify = async (url: string, channel: string, n: number): Promise<Array<number>> => {
  const listener = new pg.Client({ connectionString: url })
  const notifier = new pg.Client({ connectionString: url })
  await Promise.all([listener.connect(), notifier.connect()])
  await listener.query(`LISTEN ${channel}`)
  let wake: ((at: number) => void) | undefined
  listener.on("notification", () => wake?.(performance.now()))
  const latencies: Array<number> = []
  for (let i = 0; i < n + 20; i++) {
    const got = new Promise<number>((resolve) => (wake = resolve))
    await notifier.query({ name: "notify", text: "SELECT pg_notify($1, $2)", values: [channel, String(i)] })
    const acked = performance.now()
    const at = await got
    if (i >= 20) latencies.push(Math.max(0, at - acked))
    await sleep(1)
  }
  await Promise.all([listener.end(), notifier.end()])
  return latencies
}

const rawSqlite = async (file: string, n: number): Promise<Array<number>> => {
  const db = new Database(file)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.exec("CREATE TABLE raw_events (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
  const insert = db.prepare<[string]>("INSERT INTO raw_events (data) VALUES (?)")
  const select = db.prepare<[number | bigint], { data: string }>("SELECT data FROM raw_events WHERE id > ?")
  const bus = new EventEmitter()
  let wake: ((at: number) => void) | undefined
  bus.on("appended", (id: number | bigint) => {
    setImmediate(() => {
      for (const row of select.all(Number(id) - 1)) JSON.parse(row.data)
      wake?.(performance.now())
    })
  })
  const latencies: Array<number> = []
  for (let i = 0; i < n + 20; i++) {
    const got = new Promise<number>((resolve) => (wake = resolve))
    const { lastInsertRowid } = insert.run(JSON.stringify(data))
    const committed = performance.now()
    bus.emit("appended", lastInsertRowid)
    const at = await got
    if (i >= 20) latencies.push(Math.max(0, at - committed))
    await sleep(1)
  }
  db.close()
  return latencies
}

export const wakeup: BenchCase = {
  name: "wakeup",
  description: "subscription wake-up latency (append commit -> subscriber), p50/p99",
  run: async ({ quick, databaseUrl, runId, log }) => {
    const n = quick ? 300 : 2000
    const out: Array<Result> = []
    const dir = mkdtempSync(join(tmpdir(), "dabgent-bench-"))
    try {
      const sqlite = ManagedRuntime.make(SqliteEventStore.layer({ filename: join(dir, "events.db") }))
      try {
        const store = await sqlite.runPromise(EventStore)
        const baseline = await rawSqlite(join(dir, "raw.db"), n)
        const latencies = await sqlite.runPromise(measure(store, store, "wake", n))
        out.push(...results("wakeup sqlite", latencies, baseline))
      } finally {
        await sqlite.dispose()
      }
      if (databaseUrl === undefined) {
        for (const name of ["wakeup pg same store", "wakeup pg other store (notify)"])
          for (const p of ["p50", "p99"]) out.push(skipped(`${name} ${p}`, "ms", noDatabase))
        return out
      }
      const url = Redacted.make(databaseUrl)
      const streamId = `${runId}-wake`
      const a = ManagedRuntime.make(PgEventStore.layer({ url, maxConnections: 2 }))
      const b = ManagedRuntime.make(PgEventStore.layer({ url, maxConnections: 2 }))
      try {
        const appender = await a.runPromise(EventStore)
        const other = await b.runPromise(EventStore)
        const baseline = await rawNotify(databaseUrl, `${runId}_wake`, n)
        log(`raw notify p50 ${percentile(sortedCopy(baseline), 50).toFixed(3)} ms`)
        const same = await a.runPromise(measure(appender, appender, streamId, n))
        out.push(...results("wakeup pg same store", same))
        const viaNotify = await a.runPromise(measure(appender, other, streamId, n))
        out.push(
          ...results(
            "wakeup pg other store (notify)",
            viaNotify,
            baseline,
            "baseline: raw LISTEN/NOTIFY between two pg clients"
          )
        )
      } finally {
        const admin = new pg.Client({ connectionString: databaseUrl })
        await admin.connect()
        await admin.query(`DELETE FROM dabgent_events WHERE stream_id = $1`, [streamId])
        await admin.query(`DELETE FROM dabgent_streams WHERE stream_id = $1`, [streamId])
        await admin.end()
        await a.dispose()
        await b.dispose()
      }
      return out
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
