import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import pg from "pg"
import { EventStore, StoreError } from "../../src/store/index.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"
import { testDatabaseUrl } from "../support/postgres.js"
import { conformance, freshStream } from "./conformance.js"

const url = testDatabaseUrl()
const storeLayer = () => PgEventStore.layer({ url, maxConnections: 4 })
const droppedApp = `dabgent-dropped-${process.pid}`

const withClient = <A>(f: (client: pg.Client) => Promise<A>) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: Redacted.value(url) })
    await client.connect()
    try {
      return await f(client)
    } finally {
      await client.end()
    }
  })

conformance({
  backend: "postgres",
  layer: storeLayer(),
  connect: Effect.map(Layer.build(storeLayer()), Context.get(EventStore)),
  connections: "separate connections",
  // json columns cannot hold invalid JSON; metadata that is not an object is the damage a row can carry.
  corrupt: (streamId, sequence) =>
    withClient((client) =>
      client.query("UPDATE dabgent_events SET metadata = '[1, 2]' WHERE stream_id = $1 AND sequence = $2", [
        streamId,
        sequence
      ])
    )
})

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe("PgEventStore (postgres)", () => {
  it.live(
    "[postgres] 4 OS processes × 2,500 appends to one stream: sequences 1..10,000, two subscribers see one order",
    () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const streamId = freshStream("processes")
        const subscribers = yield* Effect.all(
          [0, 1].map(() =>
            Effect.fork(Stream.runCollect(Stream.take(store.subscribe({ streamId }), 10_000)))
          ),
          { concurrency: "unbounded" }
        )
        const run = promisify(execFile)
        const outputs = yield* Effect.promise(() =>
          Promise.all(
            [0, 1, 2, 3].map((p) =>
              run(
                process.execPath,
                [
                  "--import",
                  "tsx",
                  "test/support/appender.ts",
                  Redacted.value(url),
                  streamId,
                  `process-${p}`,
                  "2500"
                ],
                { maxBuffer: 1 << 20 }
              )
            )
          )
        )
        expect(outputs.map((o) => o.stdout.trim())).toEqual([
          "done 2500",
          "done 2500",
          "done 2500",
          "done 2500"
        ])
        const seen = yield* Effect.all(subscribers.map((f) => Fiber.join(f))).pipe(
          Effect.timeout("60 seconds")
        )
        const stored = Chunk.toReadonlyArray(yield* Stream.runCollect(store.read({ streamId })))
        expect(stored.map((e) => e.sequence)).toEqual(range(1, 10_000))
        for (const events of seen) {
          const list = Chunk.toReadonlyArray(events)
          expect(list.map((e) => e.sequence)).toEqual(range(1, 10_000))
          expect(list.map((e) => `${e.aggregateId}@${e.version}`)).toEqual(
            stored.map((e) => `${e.aggregateId}@${e.version}`)
          )
        }
        for (let p = 0; p < 4; p++) {
          expect(stored.filter((e) => e.aggregateId === `process-${p}`).map((e) => e.version)).toEqual(
            range(1, 2500)
          )
        }
      }).pipe(Effect.provide(storeLayer())),
    180_000
  )

  it.live("[postgres] survives dropped connections: appends resume and subscribers still wake", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const streamId = freshStream("dropped")
      yield* store.append({ streamId, aggregateId: "a", events: [{ type: "t", data: 1 }] })
      const fiber = yield* Effect.fork(Stream.runCollect(Stream.take(store.subscribe({ streamId }), 3)))
      yield* Effect.sleep("100 millis")
      // Kill this store's connections (the pool's and the listener's), found by application
      // name, so the other test files sharing the database are not disturbed.
      const killed = yield* withClient(async (client) => {
        const result = await client.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
          [droppedApp]
        )
        return result.rowCount ?? 0
      })
      expect(killed).toBeGreaterThan(0)
      // The first append may land on a dead pooled connection; it fails cleanly as a StoreError.
      const outcome = yield* Effect.either(
        store.append({ streamId, aggregateId: "a", events: [{ type: "t", data: 2 }] })
      )
      if (outcome._tag === "Left") {
        expect(outcome.left).toBeInstanceOf(StoreError)
        expect(outcome.left.message).not.toContain("postgres:postgres")
        yield* store.append({ streamId, aggregateId: "a", events: [{ type: "t", data: 2 }] })
      }
      yield* store.append({ streamId, aggregateId: "a", events: [{ type: "t", data: 3 }] })
      const seen = yield* Fiber.join(fiber).pipe(Effect.timeout("15 seconds"))
      expect(Chunk.toReadonlyArray(seen).map((e) => e.data)).toEqual([1, 2, 3])
    }).pipe(
      Effect.provide(
        PgEventStore.layer({
          url: Redacted.make(`${Redacted.value(url)}?application_name=${droppedApp}`),
          maxConnections: 4
        })
      )
    )
  )

  it.live("[postgres] an unreachable server is a StoreError that does not show the password", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Effect.provide(
          EventStore,
          PgEventStore.layer({ url: Redacted.make("postgres://postgres:hunter2@127.0.0.1:1/nope") })
        )
      )
      expect(error).toBeInstanceOf(StoreError)
      expect(JSON.stringify(error)).not.toContain("hunter2")
      expect(error.message).not.toContain("hunter2")
    })
  )

  it.live("[postgres] processes migrating at the same instant do not collide", () =>
    Effect.gen(function* () {
      const stores = yield* Effect.all(
        range(1, 4).map(() => Effect.map(Layer.build(storeLayer()), Context.get(EventStore))),
        { concurrency: "unbounded" }
      )
      expect(stores.length).toBe(4)
    }).pipe(Effect.scoped)
  )
})
