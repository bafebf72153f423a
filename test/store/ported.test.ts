/**
 * The original store's tests (its Postgres store suite), ported: a counter aggregate run through
 * the store as a handler would be — fold the history, process a command, append with the version
 * it decided on — plus a subscriber that reacts to events with new commands. Run on every backend.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import * as Handler from "../../src/Handler.js"
import { EventStore } from "../../src/store/index.js"
import { HandlerSpec } from "../../src/testing/index.js"
import { backends } from "../support/stores.js"

type CounterEvent = { readonly _tag: "Incremented" | "Decremented"; readonly amount: number }
type CounterCommand = { readonly _tag: "Increment" | "Decrement"; readonly amount: number }
class BelowZero extends Schema.TaggedError<BelowZero>()("BelowZero", { value: Schema.Number }) {}

const counter = Handler.make<number, CounterCommand, CounterEvent, BelowZero>({
  initial: 0,
  process: (value, command) =>
    command._tag === "Increment"
      ? Effect.succeed([{ _tag: "Incremented", amount: command.amount }])
      : value < command.amount
        ? Effect.fail(new BelowZero({ value }))
        : Effect.succeed([{ _tag: "Decremented", amount: command.amount }]),
  apply: (value, event) => (event._tag === "Incremented" ? value + event.amount : value - event.amount)
})

const decodeEvent = Schema.decodeUnknown(
  Schema.Struct({ _tag: Schema.Literal("Incremented", "Decremented"), amount: Schema.Number })
)

/** Load, fold, decide, append with the version the decision was made on. */
const execute = (streamId: string, aggregateId: string, command: CounterCommand) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const history = yield* Stream.runCollect(
      store.read({ streamId, aggregateId }).pipe(Stream.mapEffect((e) => decodeEvent(e.data)))
    )
    const events = yield* counter.process(Handler.fold(counter, history), command)
    return yield* store.append({
      streamId,
      aggregateId,
      events: events.map((event) => ({ type: `counter.${event._tag}`, data: event })),
      expectedVersion: Chunk.size(history)
    })
  })

const load = (streamId: string, aggregateId: string) =>
  Effect.flatMap(EventStore, (store) =>
    Stream.runCollect(
      store.read({ streamId, aggregateId }).pipe(Stream.mapEffect((e) => decodeEvent(e.data)))
    ).pipe(Effect.map((events) => ({ value: Handler.fold(counter, events), version: Chunk.size(events) })))
  )

describe("the counter decider (Given/When/Then)", () => {
  const spec = HandlerSpec.forHandler(counter)
  it.effect("increments", () =>
    spec
      .given([])
      .when({ _tag: "Increment", amount: 3 })
      .thenEvents([{ _tag: "Incremented", amount: 3 }])
  )
  it.effect("refuses to go below zero", () =>
    spec
      .given([{ _tag: "Incremented", amount: 1 }])
      .when({ _tag: "Decrement", amount: 2 })
      .thenError(BelowZero, (e) => e.value === 1)
  )
})

for (const backend of backends()) {
  describe(`ported store tests (${backend.name})`, () => {
    it.live(`[${backend.name}] commands executed through the store fold to the right state`, () =>
      Effect.gen(function* () {
        const streamId = `ported-${randomUUID()}`
        yield* execute(streamId, "test-aggregate", { _tag: "Increment", amount: 3 })
        yield* execute(streamId, "test-aggregate", { _tag: "Increment", amount: 3 })
        expect(yield* load(streamId, "test-aggregate")).toEqual({ value: 6, version: 2 })
        const refused = yield* Effect.flip(
          execute(streamId, "test-aggregate", { _tag: "Decrement", amount: 7 })
        )
        expect(refused).toBeInstanceOf(BelowZero)
        expect(yield* load(streamId, "test-aggregate")).toEqual({ value: 6, version: 2 })
      }).pipe(Effect.provide(backend.layer()))
    )

    it.live(`[${backend.name}] latest versions per aggregate start empty and follow appends`, () =>
      Effect.gen(function* () {
        const streamId = `ported-${randomUUID()}`
        const store = yield* EventStore
        const versions = Effect.map(Stream.runCollect(store.read({ streamId })), (events) => {
          const latest = new Map<string, number>()
          for (const e of events) latest.set(e.aggregateId, e.version)
          return [...latest]
        })
        expect(yield* versions).toEqual([])
        yield* execute(streamId, "test-aggregate", { _tag: "Increment", amount: 3 })
        expect(yield* versions).toEqual([["test-aggregate", 1]])
      }).pipe(Effect.provide(backend.layer()))
    )

    it.live(`[${backend.name}] a subscriber reacting to each increment with a decrement`, () =>
      Effect.gen(function* () {
        const streamId = `ported-${randomUUID()}`
        const store = yield* EventStore
        const reactor = yield* Effect.fork(
          store.subscribe({ streamId }).pipe(
            Stream.filter((e) => e.type === "counter.Incremented"),
            Stream.take(1),
            Stream.runForEach((e) => execute(streamId, e.aggregateId, { _tag: "Decrement", amount: 1 }))
          )
        )
        yield* execute(streamId, "test-aggregate", { _tag: "Increment", amount: 3 })
        yield* Fiber.join(reactor).pipe(Effect.timeout("10 seconds"))
        expect(yield* load(streamId, "test-aggregate")).toEqual({ value: 2, version: 2 })
      }).pipe(Effect.provide(backend.layer()))
    )
  })
}
