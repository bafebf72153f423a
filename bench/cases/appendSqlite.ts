/**
 * Append throughput on SQLite, 1 KB events, one producer: `SqliteEventStore` against a raw
 * better-sqlite3 single-row INSERT (autocommit, WAL, synchronous=NORMAL, its own file), runs
 * interleaved round by round.
 */
import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { EventStore } from "../../src/store/EventStore.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import { median, payload1k, ratioResult, rotated, type BenchCase } from "../lib/common.js"

export const appendSqlite: BenchCase = {
  name: "append-sqlite",
  description: "SQLite append throughput vs raw better-sqlite3 INSERT",
  run: async ({ quick, log }) => {
    const dir = mkdtempSync(join(tmpdir(), "dabgent-bench-"))
    const data = payload1k()
    const rounds = quick ? 3 : 7
    const count = quick ? 5000 : 20000
    const raw = new Database(join(dir, "raw.db"))
    raw.pragma("journal_mode = WAL")
    raw.pragma("synchronous = NORMAL")
    raw.exec("CREATE TABLE raw_events (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
    const insert = raw.prepare<[string]>("INSERT INTO raw_events (data) VALUES (?)")
    const runtime = ManagedRuntime.make(SqliteEventStore.layer({ filename: join(dir, "events.db") }))
    try {
      const store = await runtime.runPromise(EventStore)
      let aggregate = 0
      // One producer, as an agent appends: sequential appends inside one fiber, version-checked.
      const dabgentRun = (n: number) => {
        const aggregateId = `a${aggregate++}`
        return runtime.runPromise(
          Effect.gen(function* () {
            const start = performance.now()
            for (let i = 0; i < n; i++)
              yield* store.append({
                streamId: "bench",
                aggregateId,
                events: [{ type: "thread.ToolCompleted", data }],
                expectedVersion: i
              })
            return n / ((performance.now() - start) / 1000)
          })
        )
      }
      const rawRun = (n: number) => {
        const start = performance.now()
        for (let i = 0; i < n; i++) insert.run(JSON.stringify(data))
        return Promise.resolve(n / ((performance.now() - start) / 1000))
      }
      const contenders = { dabgent: dabgentRun, raw: rawRun }
      await dabgentRun(1000)
      await rawRun(1000)
      const samples = { dabgent: [] as Array<number>, raw: [] as Array<number> }
      for (let round = 0; round < rounds; round++) {
        for (const name of rotated(["dabgent", "raw"] as const, round))
          samples[name].push(await contenders[name](count))
        log(
          `round ${round + 1}/${rounds}: dabgent ${Math.round(samples.dabgent.at(-1) ?? 0)}/s, raw ${Math.round(samples.raw.at(-1) ?? 0)}/s`
        )
      }
      return [
        ratioResult("append sqlite 1p vs raw", median(samples.dabgent), median(samples.raw), "appends/s", 0.7)
      ]
    } finally {
      raw.close()
      await runtime.dispose()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
