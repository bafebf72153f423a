/**
 * Several OS processes appending to one SQLite file: the store's `BEGIN IMMEDIATE` + busy retry
 * must give one gapless order that every subscriber (each on its own connection) sees the same.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { EventStore } from "../../src/store/index.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import { tempSqliteFile } from "../support/stores.js"

/** What `appender` writes. */
const Appended = Schema.Struct({ n: Schema.Number })

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const run = promisify(execFile)

describe("SqliteEventStore with several OS processes", () => {
  it.live(
    "[sqlite] 4 OS processes × 2,500 appends to one stream: sequences 1..10,000, two subscribers see one order",
    () =>
      Effect.gen(function* () {
        const filename = tempSqliteFile()
        const streamId = "processes"
        const total = 10_000
        // Each subscriber has its own store, so its own connections: it learns of other
        // processes' appends only from the file.
        const connect = Effect.map(Layer.build(SqliteEventStore.layer({ filename })), Context.get(EventStore))
        const readers = yield* Effect.all([connect, connect])
        const subscribers = yield* Effect.all(
          readers.map((reader) =>
            Effect.fork(Stream.runCollect(Stream.take(reader.subscribe({ streamId }), total)))
          ),
          { concurrency: "unbounded" }
        )
        const started = Date.now()
        const outputs = yield* Effect.promise(() =>
          Promise.all(
            range(0, 3).map((p) =>
              run(
                process.execPath,
                ["--import", "tsx", "test/support/appender.ts", filename, streamId, `process-${p}`, "2500"],
                { maxBuffer: 1 << 20 }
              )
            )
          )
        )
        expect(outputs.map((o) => o.stdout.trim())).toEqual(range(0, 3).map(() => "done 2500"))
        const seen = yield* Effect.all(subscribers.map((f) => Fiber.join(f))).pipe(
          Effect.timeout("60 seconds")
        )
        console.log(`sqlite: 4 processes appended ${total} events in ${Date.now() - started} ms`)

        const store = yield* connect
        const stored = Chunk.toReadonlyArray(yield* Stream.runCollect(store.read({ streamId })))
        expect(stored.map((e) => e.sequence)).toEqual(range(1, total))
        const order = stored.map((e) => `${e.aggregateId}@${e.version}`)
        expect(new Set(order).size).toBe(total)
        for (const events of seen) {
          const list = Chunk.toReadonlyArray(events)
          expect(list.map((e) => e.sequence)).toEqual(range(1, total))
          expect(list.map((e) => `${e.aggregateId}@${e.version}`)).toEqual(order)
        }
        for (let p = 0; p < 4; p++) {
          const mine = stored.filter((e) => e.aggregateId === `process-${p}`)
          expect(mine.map((e) => e.version)).toEqual(range(1, 2500))
          // Each process appended its n-th event as version n: nothing reordered within a writer.
          expect(mine.map((e) => Schema.decodeUnknownSync(Appended)(e.data).n)).toEqual(range(1, 2500))
        }
        expect(yield* store.head(streamId)).toBe(total)
      }).pipe(Effect.scoped),
    180_000
  )
})
