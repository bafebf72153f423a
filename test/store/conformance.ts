/**
 * The one conformance suite every EventStore backend must pass. Each backend's test file calls
 * `conformance(...)` with a way to open the store and, for real databases, further independent
 * connections to the same database. Tests isolate themselves with fresh stream ids.
 */
import { describe, expect, it, layer } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import {
  ConcurrencyError,
  DecodeError,
  EventStore,
  StoreError,
  type StoredEvent
} from "../../src/store/index.js"

export interface ConformanceTarget {
  /** Shown in every test name, e.g. "postgres". */
  readonly backend: string
  /** The store under test, built once for the suite. */
  readonly layer: Layer.Layer<EventStore, unknown>
  /** Another store on the same database over its own connection (the same store for memory). */
  readonly connect: Effect.Effect<EventStore["Type"], unknown, Scope.Scope | EventStore>
  /** "separate connections" or "one shared store": said in the concurrency tests' names. */
  readonly connections: string
  /** Damages the stored row so it no longer decodes; absent where rows cannot be damaged. */
  readonly corrupt?: (streamId: string, sequence: number) => Effect.Effect<void, unknown>
}

export const freshStream = (label: string): string => `${label}-${randomUUID()}`

const collect = <A, E>(stream: Stream.Stream<A, E>) =>
  Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

const range = (from: number, to: number): Array<number> =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i)

const event = (n: number, size = 16) => ({ type: "test.Happened", data: { n, pad: "x".repeat(size) } })

export const conformance = (target: ConformanceTarget): void => {
  const name = (text: string) => `[${target.backend}] ${text}`

  layer(target.layer, { excludeTestServices: true })(`EventStore conformance (${target.backend})`, (it) => {
    describe("append and read", () => {
      it.effect(name("assigns stream sequences and aggregate versions in order"), () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const streamId = freshStream("order")
          const first = yield* store.append({
            streamId,
            aggregateId: "a",
            events: [event(1), event(2)],
            expectedVersion: 0,
            metadata: { correlationId: "c-1" }
          })
          const second = yield* store.append({
            streamId,
            aggregateId: "b",
            events: [event(3)],
            expectedVersion: 0
          })
          const third = yield* store.append({
            streamId,
            aggregateId: "a",
            events: [event(4)],
            expectedVersion: 2
          })
          expect(first).toEqual({ firstSequence: 1, lastSequence: 2, version: 2 })
          expect(second).toEqual({ firstSequence: 3, lastSequence: 3, version: 1 })
          expect(third).toEqual({ firstSequence: 4, lastSequence: 4, version: 3 })

          const all = yield* collect(store.read({ streamId }))
          expect(all.map((e) => [e.sequence, e.aggregateId, e.version, (e.data as { n: number }).n])).toEqual(
            [
              [1, "a", 1, 1],
              [2, "a", 2, 2],
              [3, "b", 1, 3],
              [4, "a", 3, 4]
            ]
          )
          const [head] = all
          expect(head?.streamId).toBe(streamId)
          expect(head?.type).toBe("test.Happened")
          expect(head?.data).toEqual({ n: 1, pad: "x".repeat(16) })
          expect(head?.metadata).toEqual({ correlationId: "c-1" })
          expect(all[2]?.metadata).toEqual({})
          expect(head?.createdAt).toBeInstanceOf(Date)
          expect(Math.abs((head?.createdAt.getTime() ?? 0) - Date.now())).toBeLessThan(60_000)
          expect(yield* store.head(streamId)).toBe(4)
        })
      )

      it.effect(name("keeps streams apart: each has its own sequence"), () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const one = freshStream("one")
          const two = freshStream("two")
          yield* store.append({ streamId: one, aggregateId: "a", events: [event(1)] })
          const result = yield* store.append({ streamId: two, aggregateId: "a", events: [event(2)] })
          expect(result).toEqual({ firstSequence: 1, lastSequence: 1, version: 1 })
          expect((yield* collect(store.read({ streamId: one }))).length).toBe(1)
          expect(yield* store.head(freshStream("empty"))).toBe(0)
          expect(yield* collect(store.read({ streamId: freshStream("empty") }))).toEqual([])
        })
      )

      it.effect(name("filters by aggregate, aggregate prefix, types and fromSequence"), () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const streamId = freshStream("filters")
          yield* store.append({
            streamId,
            aggregateId: "s1/planner",
            events: [{ type: "planner.A", data: 1 }]
          })
          yield* store.append({ streamId, aggregateId: "s1/task-1", events: [{ type: "thread.B", data: 2 }] })
          yield* store.append({ streamId, aggregateId: "s2/task-1", events: [{ type: "thread.B", data: 3 }] })
          yield* store.append({ streamId, aggregateId: "s1/task-1", events: [{ type: "thread.C", data: 4 }] })
          const data = (events: ReadonlyArray<StoredEvent>) => events.map((e) => e.data)
          expect(data(yield* collect(store.read({ streamId, aggregateId: "s1/task-1" })))).toEqual([2, 4])
          expect(data(yield* collect(store.read({ streamId, aggregatePrefix: "s1/" })))).toEqual([1, 2, 4])
          expect(data(yield* collect(store.read({ streamId, types: ["thread.B"] })))).toEqual([2, 3])
          expect(data(yield* collect(store.read({ streamId, types: ["thread.B", "planner.A"] })))).toEqual([
            1, 2, 3
          ])
          expect(data(yield* collect(store.read({ streamId, fromSequence: 2 })))).toEqual([3, 4])
          expect(
            data(
              yield* collect(
                store.read({ streamId, aggregatePrefix: "s1/", types: ["thread.C"], fromSequence: 1 })
              )
            )
          ).toEqual([4])
          expect(yield* collect(store.read({ streamId, aggregatePrefix: "s1%" }))).toEqual([])
          expect(yield* collect(store.read({ streamId, aggregatePrefix: "s_/" }))).toEqual([])
        })
      )

      it.effect(name("reads long streams page by page without losing or repeating an event"), () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const streamId = freshStream("paging")
          for (let batch = 0; batch < 5; batch++) {
            yield* store.append({
              streamId,
              aggregateId: "a",
              events: range(batch * 500 + 1, batch * 500 + 500).map((n) => event(n, 0))
            })
          }
          const all = yield* collect(store.read({ streamId }))
          expect(all.map((e) => e.sequence)).toEqual(range(1, 2500))
          expect(all.map((e) => e.version)).toEqual(range(1, 2500))
          const tail = yield* collect(store.read({ streamId, fromSequence: 1999 }))
          expect(tail.map((e) => e.sequence)).toEqual(range(2000, 2500))
        })
      )

      it.effect(name("stores unicode, nested JSON and null data intact"), () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const streamId = freshStream("json")
          const data = {
            text: 'héllo ✓ \u0000-free "quoted" \\ back',
            nested: { list: [1, 2.5, true, null] }
          }
          yield* store.append({
            streamId,
            aggregateId: "a",
            events: [
              { type: "t", data },
              { type: "t", data: null }
            ]
          })
          const all = yield* collect(store.read({ streamId }))
          expect(all.map((e) => e.data)).toEqual([data, null])
        })
      )

      it.effect(name("rejects an append with no events"), () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const error = yield* Effect.flip(
            store.append({ streamId: freshStream("empty"), aggregateId: "a", events: [] })
          )
          expect(error).toBeInstanceOf(StoreError)
        })
      )
    })

    describe("expectedVersion", () => {
      it.effect(
        name("a stale or premature expectedVersion fails with ConcurrencyError and writes nothing"),
        () =>
          Effect.gen(function* () {
            const store = yield* EventStore
            const streamId = freshStream("conflict")
            yield* store.append({ streamId, aggregateId: "a", events: [event(1)], expectedVersion: 0 })
            const stale = yield* Effect.flip(
              store.append({ streamId, aggregateId: "a", events: [event(2)], expectedVersion: 0 })
            )
            expect(stale).toBeInstanceOf(ConcurrencyError)
            expect(stale).toMatchObject({ streamId, aggregateId: "a", expected: 0, actual: 1 })
            const ahead = yield* Effect.flip(
              store.append({ streamId, aggregateId: "a", events: [event(2)], expectedVersion: 5 })
            )
            expect(ahead).toMatchObject({ _tag: "ConcurrencyError", expected: 5, actual: 1 })
            const newcomer = yield* Effect.flip(
              store.append({ streamId, aggregateId: "new", events: [event(2)], expectedVersion: 1 })
            )
            expect(newcomer).toMatchObject({ _tag: "ConcurrencyError", expected: 1, actual: 0 })
            // A failed append leaves no trace and takes no sequence.
            expect(yield* store.head(streamId)).toBe(1)
            const next = yield* store.append({ streamId, aggregateId: "b", events: [event(3)] })
            expect(next.firstSequence).toBe(2)
            const any = yield* store.append({
              streamId,
              aggregateId: "a",
              events: [event(4)],
              expectedVersion: "any"
            })
            expect(any).toEqual({ firstSequence: 3, lastSequence: 3, version: 2 })
          })
      )

      it.effect(
        name(`racing writers on one aggregate: exactly one wins each version (${target.connections})`),
        () =>
          Effect.gen(function* () {
            const streamId = freshStream("race")
            const stores = yield* Effect.all([target.connect, target.connect, target.connect, target.connect])
            const results = yield* Effect.all(
              stores.map((store, writer) =>
                Effect.exit(
                  store.append({ streamId, aggregateId: "a", events: [event(writer)], expectedVersion: 0 })
                )
              ),
              { concurrency: "unbounded" }
            )
            expect(results.filter(Exit.isSuccess).length).toBe(1)
            for (const result of results.filter(Exit.isFailure)) {
              expect(result.cause).toMatchObject({ _tag: "Fail", error: { _tag: "ConcurrencyError" } })
            }
            const store = yield* EventStore
            expect((yield* collect(store.read({ streamId }))).length).toBe(1)
          }).pipe(Effect.scoped)
      )
    })

    describe("subscribe", () => {
      it.effect(name("catches up, then delivers live events in order"), () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const streamId = freshStream("live")
          yield* store.append({ streamId, aggregateId: "a", events: [event(1), event(2)] })
          const fiber = yield* Effect.fork(collect(Stream.take(store.subscribe({ streamId }), 5)))
          yield* store.append({ streamId, aggregateId: "b", events: [event(3)] })
          yield* Effect.sleep("20 millis")
          yield* store.append({ streamId, aggregateId: "a", events: [event(4), event(5)] })
          const seen = yield* Fiber.join(fiber).pipe(Effect.timeout("10 seconds"))
          expect(seen.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5])
        })
      )

      it.effect(name("applies filters and fromSequence to live events"), () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const streamId = freshStream("live-filter")
          yield* store.append({ streamId, aggregateId: "s1/a", events: [event(1)] })
          yield* store.append({ streamId, aggregateId: "s1/a", events: [event(2)] })
          const fiber = yield* Effect.fork(
            collect(Stream.take(store.subscribe({ streamId, aggregatePrefix: "s1/", fromSequence: 1 }), 3))
          )
          for (let n = 3; n <= 12; n++) {
            yield* store.append({ streamId, aggregateId: n % 4 === 0 ? "s1/b" : "s2/x", events: [event(n)] })
          }
          const seen = yield* Fiber.join(fiber).pipe(Effect.timeout("10 seconds"))
          expect(seen.map((e) => e.sequence)).toEqual([2, 4, 8])
        })
      )

      it.effect(name("wakes a subscriber for an append made over another connection"), () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const other = yield* target.connect
          const streamId = freshStream("cross")
          const fiber = yield* Effect.fork(collect(Stream.take(store.subscribe({ streamId }), 2)))
          yield* Effect.sleep("50 millis")
          yield* other.append({ streamId, aggregateId: "a", events: [event(1)] })
          yield* Effect.sleep("20 millis")
          yield* other.append({ streamId, aggregateId: "a", events: [event(2)] })
          const seen = yield* Fiber.join(fiber).pipe(Effect.timeout("10 seconds"))
          expect(seen.map((e) => e.sequence)).toEqual([1, 2])
        }).pipe(Effect.scoped)
      )
    })

    describe("many subscribers on one store", () => {
      it.effect(
        name(
          "60 subscribers (filters, late joins, leavers, a slow one) each see exactly their events once, in order"
        ),
        () =>
          Effect.gen(function* () {
            const store = yield* EventStore
            const streamId = freshStream("fanout")
            // 60 appends of 100 events, round-robin over 4 sessions ("s1/" must not match "s10/"):
            // more events than a store keeps in memory for its live subscribers.
            const sessions = ["s1", "s2", "s3", "s10"]
            const appends = 60
            const batch = 100
            const aggregateOf = (sequence: number) =>
              `${sessions[Math.floor((sequence - 1) / batch) % sessions.length]}/thread`
            const expected = (prefix: string | undefined, from: number) =>
              range(from + 1, appends * batch).filter(
                (sequence) => prefix === undefined || aggregateOf(sequence).startsWith(prefix)
              )
            const subscriber = (prefix: string | undefined, from: number, slow = false) => {
              const want = expected(prefix, from)
              const stream = store.subscribe({
                streamId,
                ...(prefix === undefined ? {} : { aggregatePrefix: prefix }),
                ...(from === 0 ? {} : { fromSequence: from })
              })
              return Effect.fork(
                Effect.map(
                  collect(
                    Stream.take(
                      slow
                        ? Stream.tap(stream, (e) =>
                            e.sequence % 20 === 0 ? Effect.sleep("2 millis") : Effect.void
                          )
                        : stream,
                      want.length
                    )
                  ),
                  (events) => ({ want, got: events.map((e) => e.sequence), events })
                )
              )
            }
            const prefixOf = (i: number) => (i % 3 === 0 ? undefined : `${sessions[i % sessions.length]}/`)
            const fibers = yield* Effect.all(
              Array.from({ length: 30 }, (_, i) => subscriber(prefixOf(i), 0, i === 7)),
              { concurrency: "unbounded" }
            )
            // Leavers take a few events and go away while the others keep reading.
            const leavers = yield* Effect.all(
              Array.from({ length: 10 }, () =>
                Effect.fork(collect(Stream.take(store.subscribe({ streamId }), 150)))
              ),
              { concurrency: "unbounded" }
            )
            for (let n = 0; n < appends; n++) {
              yield* store.append({
                streamId,
                aggregateId: aggregateOf(n * batch + 1),
                events: Array.from({ length: batch }, (_, i) => event(n * batch + i + 1))
              })
              // Late joiners, from the start and from the current position, while appends go on.
              if (n % 3 === 0) fibers.push(yield* subscriber(prefixOf(n), n % 2 === 0 ? 0 : n * batch))
              if (n % 10 === 0) yield* Effect.sleep("5 millis")
            }
            const stored = yield* collect(store.read({ streamId }))
            expect(stored.map((e) => e.aggregateId)).toEqual(range(1, appends * batch).map(aggregateOf))
            const left = yield* Fiber.join(Fiber.all(leavers)).pipe(Effect.timeout("60 seconds"))
            for (const events of left) expect(events.map((e) => e.sequence)).toEqual(range(1, 150))
            const results = yield* Fiber.join(Fiber.all(fibers)).pipe(Effect.timeout("60 seconds"))
            expect(results.length).toBe(50)
            for (const { want, got, events } of results) {
              expect(got).toEqual(want)
              const signature = (e: StoredEvent | undefined) =>
                e === undefined ? "missing" : `${e.aggregateId}@${e.version}:${JSON.stringify(e.data)}`
              expect(events.map(signature)).toEqual(events.map((e) => signature(stored[e.sequence - 1])))
            }
            // Nothing more arrives for anyone: one more append reaches a fresh subscriber only once.
            const next = yield* Effect.fork(
              collect(Stream.take(store.subscribe({ streamId, fromSequence: appends * batch }), 1))
            )
            yield* store.append({ streamId, aggregateId: "s2/thread", events: [event(0)] })
            const last = yield* Fiber.join(next).pipe(Effect.timeout("10 seconds"))
            expect(last.map((e) => e.sequence)).toEqual([appends * batch + 1])
          }),
        120_000
      )
    })

    describe(`concurrency (${target.connections})`, () => {
      it.effect(
        name(
          `4 producers × 2,500 appends: sequences exactly 1..10,000 and every subscriber sees one order (${target.connections})`
        ),
        () =>
          Effect.gen(function* () {
            const total = 10_000
            const perProducer = 2_500
            const streamId = freshStream("load")
            const producers = yield* Effect.all([
              target.connect,
              target.connect,
              target.connect,
              target.connect
            ])
            const readers = yield* Effect.all([target.connect, target.connect])
            const subscribers = yield* Effect.all(
              readers.map((reader) =>
                Effect.fork(collect(Stream.take(reader.subscribe({ streamId }), total)))
              ),
              { concurrency: "unbounded" }
            )
            const late = Effect.gen(function* () {
              // Joins while the producers are racing, from the beginning of the stream.
              const reader = yield* target.connect
              yield* Effect.sleep("30 millis")
              return yield* collect(Stream.take(reader.subscribe({ streamId }), total))
            })
            const lateFiber = yield* Effect.fork(late)
            yield* Effect.all(
              producers.map((producer, p) =>
                Effect.forEach(
                  range(1, perProducer),
                  (n) =>
                    producer.append({
                      streamId,
                      aggregateId: `producer-${p}`,
                      events: [event(n, 1024)],
                      expectedVersion: n - 1
                    }),
                  { discard: true }
                )
              ),
              { concurrency: "unbounded", discard: true }
            )
            const seen = yield* Fiber.join(Fiber.all([...subscribers, lateFiber])).pipe(
              Effect.timeout("120 seconds")
            )
            const store = yield* EventStore
            const stored = yield* collect(store.read({ streamId }))
            const order = (events: ReadonlyArray<StoredEvent>) =>
              events.map((e) => `${e.aggregateId}@${e.version}`)
            expect(stored.map((e) => e.sequence)).toEqual(range(1, total))
            expect(seen.length).toBe(3)
            for (const events of seen) {
              expect(events.map((e) => e.sequence)).toEqual(range(1, total))
              expect(order(events)).toEqual(order(stored))
            }
            for (let p = 0; p < 4; p++) {
              const versions = stored.filter((e) => e.aggregateId === `producer-${p}`).map((e) => e.version)
              expect(versions).toEqual(range(1, perProducer))
            }
          }).pipe(Effect.scoped),
        180_000
      )
    })

    if (target.corrupt !== undefined) {
      const corrupt = target.corrupt
      describe("damaged rows", () => {
        it.effect(
          name("a corrupted row fails the read with DecodeError naming it; the reader can skip it"),
          () =>
            Effect.gen(function* () {
              const store = yield* EventStore
              const streamId = freshStream("corrupt")
              yield* store.append({ streamId, aggregateId: "a", events: [event(1), event(2), event(3)] })
              yield* corrupt(streamId, 2)
              const error = yield* Effect.flip(collect(store.read({ streamId })))
              expect(error).toBeInstanceOf(DecodeError)
              expect(error).toMatchObject({ streamId, sequence: 2, type: "test.Happened" })
              // Stopping was the default; skipping is explicit: resume after the damaged sequence.
              const before = yield* collect(Stream.take(store.read({ streamId }), 1))
              const after = yield* collect(
                store.read({ streamId, fromSequence: (error as DecodeError).sequence })
              )
              expect([...before, ...after].map((e) => e.sequence)).toEqual([1, 3])
              const subscribed = yield* Effect.flip(collect(store.subscribe({ streamId })))
              expect(subscribed).toMatchObject({ _tag: "DecodeError", sequence: 2 })
            })
        )
      })
    }
  })
}

export { it }
