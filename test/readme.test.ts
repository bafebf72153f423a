/** The README's library examples, kept compiling and running (on the memory store). */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import {
  EventCodec,
  EventLog,
  EventStore,
  Prompt,
  Prompted,
  ThreadEvents,
  threadHandler
} from "../src/index.js"
import { PlannerHandler } from "../src/planner.js"
import { HandlerSpec } from "../src/testing/index.js"

describe("README examples", () => {
  it.effect("appends and reads a thread's events through the typed log", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const program = Effect.gen(function* () {
        const store = yield* EventStore
        const log = EventLog.make(store, EventCodec.make(ThreadEvents))
        yield* log.append(ThreadEvents, {
          streamId: "dabgent",
          aggregateId: "session-1",
          events: [new Prompted({ prompt: "write hello.py", maxSteps: 20 })],
          expectedVersion: 0
        })
        yield* Stream.runForEach(log.read({ streamId: "dabgent", aggregateId: "session-1" }), (e) =>
          Effect.sync(() => seen.push(`${e.stored.sequence} ${e.event._tag}`))
        )
      })
      yield* program.pipe(Effect.provide(EventStore.layerMemory))
      expect(seen).toEqual(["1 Prompted"])
      expect(PlannerHandler.key).toBe("dabgent/PlannerHandler")
    })
  )

  const spec = HandlerSpec.forHandler(threadHandler)
  it.effect("a prompt starts the agent", () =>
    spec
      .given([])
      .when(new Prompt({ prompt: "hi", maxSteps: 5 }))
      .thenEvents([new Prompted({ prompt: "hi", maxSteps: 5 })])
  )
})
