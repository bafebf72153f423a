import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { EventCodec, EventLog, ThreadEvents } from "../../src/events/index.js"
import { PlannerEvents } from "../../src/events/PlannerEvents.js"
import { EventStore } from "../../src/store/index.js"
import * as Planner from "../../src/planner/index.js"
import * as Thread from "../../src/thread/index.js"
import { backends } from "../support/stores.js"

const codec = EventCodec.make(ThreadEvents, PlannerEvents)

const threadHistory: ReadonlyArray<Thread.ThreadEvent> = [
  new Thread.Prompted({ prompt: "write hello.py", maxSteps: 10, system: "be brief" }),
  new Thread.LlmCompleted({
    text: "writing",
    toolCalls: [{ id: "c1", name: "write_file", params: { path: "hello.py", content: "print('hi')\n" } }],
    usage: { inputTokens: 12, outputTokens: 7 },
    finishReason: "tool-calls"
  }),
  new Thread.ToolStarted({ callId: "c1", name: "write_file" }),
  new Thread.ToolCompleted({
    callId: "c1",
    name: "write_file",
    result: { ok: true, nul: "a\u0000b" },
    isError: false
  }),
  new Thread.ThreadDone({ summary: "done" })
]

const plannerHistory: ReadonlyArray<Planner.PlannerEvent> = [
  new Planner.PlanningStarted({
    input: "build it",
    attachments: [new Planner.Attachment({ source: "README.md" })],
    maxParallel: 2
  }),
  new Planner.TasksPlanned({
    tasks: [
      new Planner.TaskSpec({ id: "1", description: "a", kind: "processing", dependencies: [] }),
      new Planner.TaskSpec({ id: "2", description: "b", kind: "tool_call", dependencies: ["1"] })
    ]
  }),
  new Planner.TaskDispatched({ taskId: "1", kind: "processing", description: "a" })
]

describe("EventCodec", () => {
  it.effect("stores an event as <family>.<tag> with its encoded fields", () =>
    Effect.gen(function* () {
      const encoded = yield* codec.encode(ThreadEvents, new Thread.ThreadFailed({ reason: "boom" }))
      expect(encoded).toEqual({ type: "thread.ThreadFailed", data: { reason: "boom" } })
      const planned = yield* codec.encode(PlannerEvents, plannerHistory[0] as Planner.PlannerEvent)
      expect(planned.type).toBe("planner.PlanningStarted")
    })
  )

  it.effect("names the event when data does not match its schema, an unknown tag, or an unknown family", () =>
    Effect.gen(function* () {
      const stored = (type: string, data: unknown) => ({
        streamId: "s",
        aggregateId: "a",
        sequence: 7,
        version: 1,
        type,
        data,
        metadata: {},
        createdAt: new Date(0)
      })
      const badData = yield* Effect.flip(codec.decode(stored("thread.Prompted", { prompt: 3, maxSteps: 1 })))
      expect(badData).toMatchObject({
        _tag: "DecodeError",
        streamId: "s",
        sequence: 7,
        type: "thread.Prompted"
      })
      expect(badData.reason).toContain("prompt")
      const extra = yield* Effect.flip(
        codec.decode(stored("thread.ThreadDone", { summary: "x", surprise: 1 }))
      )
      expect(extra.reason).toContain("surprise")
      const badTag = yield* Effect.flip(codec.decode(stored("thread.Exploded", {})))
      expect(badTag.type).toBe("thread.Exploded")
      const badFamily = yield* Effect.flip(codec.decode(stored("weather.Rained", {})))
      expect(badFamily.reason).toContain("unknown event family")
      const notObject = yield* Effect.flip(codec.decode(stored("thread.ThreadDone", "done")))
      expect(notObject.reason).toContain("not a JSON object")
    })
  )
})

for (const backend of backends()) {
  describe(`EventLog (${backend.name})`, () => {
    it.live(`[${backend.name}] round-trips every thread and planner event through the store`, () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const log = EventLog.make(store, codec)
        const streamId = `typed-${randomUUID()}`
        yield* log.append(ThreadEvents, {
          streamId,
          aggregateId: "s/task-1",
          events: threadHistory,
          expectedVersion: 0
        })
        yield* log.append(PlannerEvents, {
          streamId,
          aggregateId: "s",
          events: plannerHistory,
          expectedVersion: 0
        })
        const decoded = Chunk.toReadonlyArray(yield* Stream.runCollect(log.read({ streamId })))
        expect(decoded.map((d) => d.event)).toEqual([...threadHistory, ...plannerHistory])
        expect(decoded.map((d) => d.family)).toEqual([
          ...threadHistory.map(() => "thread"),
          ...plannerHistory.map(() => "planner")
        ])
        // Folding what came back gives the state folding the originals gives.
        const threadEvents = decoded.flatMap((d) => (d.family === "thread" ? [d.event] : []))
        expect(threadEvents).toEqual(threadHistory)
      }).pipe(Effect.provide(backend.layer()))
    )

    it.live(
      `[${backend.name}] a stored event that no longer decodes stops read; readEither reports it and goes on`,
      () =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const log = EventLog.make(store, codec)
          const streamId = `typed-bad-${randomUUID()}`
          yield* log.append(ThreadEvents, { streamId, aggregateId: "t", events: threadHistory.slice(0, 1) })
          yield* store.append({
            streamId,
            aggregateId: "t",
            events: [{ type: "thread.LlmCompleted", data: { text: 1 } }]
          })
          yield* store.append({
            streamId,
            aggregateId: "other",
            events: [{ type: "metrics.Tick", data: {} }]
          })
          yield* log.append(ThreadEvents, {
            streamId,
            aggregateId: "t",
            events: [new Thread.ThreadFailed({ reason: "x" })]
          })

          const stopped = yield* Effect.flip(Stream.runCollect(log.read({ streamId })))
          expect(stopped).toMatchObject({ _tag: "DecodeError", sequence: 2, type: "thread.LlmCompleted" })

          const all = Chunk.toReadonlyArray(yield* Stream.runCollect(log.readEither({ streamId })))
          expect(all.map((e) => (Either.isLeft(e) ? `bad#${e.left.sequence}` : e.right.event._tag))).toEqual([
            "Prompted",
            "bad#2",
            "ThreadFailed"
          ])
          const live = yield* Stream.runCollect(Stream.take(log.subscribeEither({ streamId }), 3))
          expect(Chunk.toReadonlyArray(live).map(Either.isLeft)).toEqual([false, true, false])
        }).pipe(Effect.provide(backend.layer()))
    )
  })
}
