import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as EventRouter from "../../src/events/EventRouter.js"
import { PlannerEvents } from "../../src/events/PlannerEvents.js"
import { RouteChosen, RouteEvents, SessionEvents, SessionStarted } from "../../src/events/SessionEvents.js"
import { ThreadEvents } from "../../src/events/ThreadEvents.js"
import * as Planner from "../../src/planner/index.js"
import * as Thread from "../../src/thread/index.js"

const stored = (type: string, data: unknown) => ({
  streamId: "dabgent",
  aggregateId: "s",
  sequence: 1,
  version: 1,
  type,
  data,
  metadata: {},
  createdAt: new Date(0)
})

describe("EventRouter", () => {
  it("routes each family to the workers that care", () => {
    expect(EventRouter.route("thread.LlmCompleted")).toEqual(["LlmWorker", "ToolWorker", "PlannerWorker"])
    expect(EventRouter.route("planner.TaskDispatched")).toEqual(["PlannerWorker"])
    expect(EventRouter.route("session.SessionStarted")).toEqual([])
    expect(EventRouter.route("weather.Rained")).toEqual([])
    expect(EventRouter.families.map((f) => f.name)).toEqual(["thread", "planner", "session", "route"])
  })

  it.effect("one codec encodes and decodes an event of every family", () =>
    Effect.gen(function* () {
      const samples = [
        [ThreadEvents, new Thread.ThreadDone({ summary: "ok" })],
        [PlannerEvents, new Planner.TaskDispatched({ taskId: "1", kind: "processing", description: "d" })],
        [
          SessionEvents,
          new SessionStarted({
            mode: "thread",
            input: "i",
            model: "openai:m",
            workdir: "/w",
            sandbox: "local",
            allowNetwork: false,
            maxSteps: 5
          })
        ],
        [RouteEvents, new RouteChosen({ mode: "plan", reason: "r", by: "heuristic" })]
      ] as const
      for (const [family, event] of samples) {
        const encoded = yield* EventRouter.codec.encode(family, event as never)
        const decoded = yield* EventRouter.codec.decode(stored(encoded.type, encoded.data))
        expect(decoded.family).toBe(family.name)
        expect(decoded.event).toEqual(event)
      }
    })
  )
})
