/**
 * The fleet worker in one process, on the memory store and memory leases: the fair share,
 * claiming submitted sessions only, a graceful handoff, and a session waiting for the user
 * that goes on when something lands in it. (Crashes of real processes: fleet.e2e.test.ts.)
 */
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as EventCodec from "../../src/events/EventCodec.js"
import * as EventLog from "../../src/events/EventLog.js"
import { SessionEvents, SessionStarted, sessionAggregateId } from "../../src/events/SessionEvents.js"
import * as FleetWorker from "../../src/fleet/FleetWorker.js"
import { Leases, layerMemory, Owner } from "../../src/fleet/Leases.js"
import { EventStore, layerMemory as storeMemory } from "../../src/store/EventStore.js"

const streamId = "dabgent"

const submit = (sessionId: string, detached = true) =>
  Effect.flatMap(EventStore, (store) =>
    EventLog.make(store, EventCodec.make(SessionEvents)).append(SessionEvents, {
      streamId,
      aggregateId: sessionAggregateId(sessionId),
      expectedVersion: 0,
      events: [
        new SessionStarted({
          mode: "thread",
          input: `task ${sessionId}`,
          model: "openai-compat:m",
          workdir: "/tmp",
          sandbox: "local",
          allowNetwork: false,
          maxSteps: 5,
          ...(detached ? { detached: true } : {})
        })
      ]
    })
  )

const owner = (name: string, maxSessions = 10) =>
  new Owner({ key: `${name}-key`, name, host: "test", pid: 1, maxSessions })

/** A serve that records who runs what and ends a session when the test says so. */
const harness = Effect.gen(function* () {
  const finish = new Map<string, Deferred.Deferred<void>>()
  const served: Array<{ readonly owner: string; readonly sessionId: string }> = []
  const gate = (sessionId: string) =>
    Effect.gen(function* () {
      let gate = finish.get(sessionId)
      if (gate === undefined) {
        gate = yield* Deferred.make<void>()
        finish.set(sessionId, gate)
      }
      return gate
    })
  const serve =
    (name: string) =>
    (session: FleetWorker.OpenSession): Effect.Effect<FleetWorker.ServeOutcome> =>
      Effect.gen(function* () {
        served.push({ owner: name, sessionId: session.sessionId })
        yield* Deferred.await(yield* gate(session.sessionId))
        return { _tag: "Ended", status: "Done" } as const
      })
  const end = (sessionId: string) => Effect.flatMap(gate(sessionId), (g) => Deferred.succeed(g, undefined))
  return { serve, served, end }
})

const start = (
  worker: Owner,
  serve: (session: FleetWorker.OpenSession) => Effect.Effect<FleetWorker.ServeOutcome>,
  events: Array<string> = []
) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const fiber = yield* Effect.forkDaemon(
      FleetWorker.run({
        owner: worker,
        streamId,
        leaseTtl: Duration.seconds(3),
        pollInterval: Duration.millis(100),
        serve,
        report: (event) =>
          Effect.sync(() => {
            events.push(event._tag === "Claimed" ? `claimed ${event.session.sessionId}` : event._tag)
          })
      }).pipe(Scope.extend(scope))
    )
    return { stop: Effect.zipRight(Fiber.interrupt(fiber), Scope.close(scope, Exit.void)) }
  })

const ownersOf = Effect.map(
  Effect.flatMap(Leases, (leases) => leases.list),
  (list) => Object.fromEntries(list.map((lease) => [lease.sessionId, lease.owner.name]))
)

const poll = <E, R>(check: Effect.Effect<boolean, E, R>) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 10_000
    while (!(yield* check)) {
      if (Date.now() > deadline) return false
      yield* Effect.sleep("50 millis")
    }
    return true
  })

const env = Layer.merge(storeMemory, layerMemory)

describe("fairShare", () => {
  it("spreads the open sessions evenly over the workers, within each one's capacity", () => {
    expect(FleetWorker.fairShare(30, [10, 10, 10], 10)).toBe(10)
    expect(FleetWorker.fairShare(30, [20, 20, 20], 20)).toBe(10)
    expect(FleetWorker.fairShare(31, [20, 20, 20], 20)).toBe(11)
    // A small worker takes what it can; the others take the rest.
    expect(FleetWorker.fairShare(30, [2, 20, 20], 20)).toBe(14)
    expect(FleetWorker.fairShare(30, [2, 20, 20], 2)).toBe(2)
    expect(FleetWorker.fairShare(0, [5], 5)).toBe(0)
    expect(FleetWorker.fairShare(3, [5], 5)).toBe(3)
  })
})

describe("FleetWorker (memory store and leases)", () => {
  it.live("two workers share the submitted sessions evenly; a graceful stop hands them over at once", () =>
    Effect.gen(function* () {
      const { serve, served, end } = yield* harness
      const a = yield* start(owner("a"), serve("a"))
      const b = yield* start(owner("b"), serve("b"))
      yield* Effect.sleep("200 millis")
      const ids = Array.from({ length: 10 }, (_, i) => `t-${i}`)
      yield* Effect.forEach(ids, (id) => submit(id))
      yield* submit("t-attached", false)
      expect(yield* poll(Effect.map(ownersOf, (owners) => Object.keys(owners).length === 10))).toBe(true)
      const owners = yield* ownersOf
      expect(Object.keys(owners).sort()).toEqual([...ids].sort())
      expect(Object.values(owners).filter((o) => o === "a")).toHaveLength(5)
      expect(Object.values(owners).filter((o) => o === "b")).toHaveLength(5)

      const started = Date.now()
      yield* a.stop
      expect(
        yield* poll(
          Effect.map(
            ownersOf,
            (now) => Object.keys(now).length === 10 && Object.values(now).every((o) => o === "b")
          )
        )
      ).toBe(true)
      // Well inside the 3 s TTL: the handoff did not wait for an expiry.
      expect(Date.now() - started).toBeLessThan(2500)

      yield* Effect.forEach(ids, end)
      expect(yield* poll(Effect.map(ownersOf, (now) => Object.keys(now).length === 0))).toBe(true)
      yield* b.stop
      // Each session ran on b at most once, and never on two workers at a time in the end.
      const onB = served.filter((s) => s.owner === "b").map((s) => s.sessionId)
      expect(new Set(onB).size).toBe(onB.length)
      expect(served.some((s) => s.sessionId === "t-attached")).toBe(false)
    }).pipe(Effect.provide(env))
  )

  it.live("a session waiting for the user stays owned and runs again once something lands in it", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const serve = (session: FleetWorker.OpenSession): Effect.Effect<FleetWorker.ServeOutcome> =>
        Effect.sync(() => {
          calls.push(session.sessionId)
          return calls.length === 1
            ? ({ _tag: "Waiting", question: "which colour?" } as const)
            : ({ _tag: "Ended", status: "Done" } as const)
        })
      const events: Array<string> = []
      const w = yield* start(owner("w"), serve, events)
      yield* Effect.sleep("200 millis")
      yield* submit("t-ask")
      expect(yield* poll(Effect.sync(() => events.includes("Waiting")))).toBe(true)
      yield* Effect.sleep("500 millis")
      expect(calls).toEqual(["t-ask"])
      expect(Object.keys(yield* ownersOf)).toEqual(["t-ask"])
      // The answer lands (any non-session event of the session).
      const store = yield* EventStore
      yield* store.append({
        streamId,
        aggregateId: "t-ask",
        events: [{ type: "thread.UserAnswered", data: {} }]
      })
      expect(yield* poll(Effect.sync(() => calls.length === 2))).toBe(true)
      expect(yield* poll(Effect.map(ownersOf, (now) => Object.keys(now).length === 0))).toBe(true)
      yield* w.stop
    }).pipe(Effect.provide(env))
  )
})
