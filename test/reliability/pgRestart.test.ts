/**
 * PostgreSQL restarted in the middle of a run (`pg_ctlcluster <version> <name> restart`): the
 * workers lose every connection, come back with backoff, and the session completes; a subscriber
 * that was waiting before the restart is woken by `LISTEN` again afterwards.
 *
 * The restart hits a private cluster made for this file (see `test/support/pgCluster.ts`), never
 * the shared test cluster that other files use at the same time.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { inject } from "vitest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { DabgentAgent } from "../../src/DabgentAgent.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { EventStore, type StoredEvent } from "../../src/store/index.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import * as Validator from "../../src/tools/Validator.js"
import { promptText, toolResults } from "../support/agentScript.js"
import * as PgCluster from "../support/pgCluster.js"

// No skipping: like a missing test database, a machine that cannot run this is a failure.
const why = PgCluster.unavailable()

const steps = 10
const planSteps = 2

/** A thread session's work: `steps` bash calls, each appending its number to runs.txt, then done. */
const threadWork = (request: ScriptedLanguageModel.Request): ScriptedLanguageModel.Reply => {
  const step = toolResults(request.prompt).length + 1
  if (step > steps) return { toolCalls: [{ name: "done", params: { summary: `ran ${steps} steps` } }] }
  return { toolCalls: [{ name: "bash", params: { command: `echo ${step} >> runs.txt; sleep 0.4` } }] }
}

const plan = JSON.stringify({
  tasks: [
    { id: "a", description: "part a", kind: "tool_call", dependencies: [] },
    { id: "b", description: "part b", kind: "tool_call", dependencies: [] },
    { id: "c", description: "combine", kind: "processing", dependencies: ["a", "b"] },
    { id: "d", description: "report", kind: "processing", dependencies: ["c"] }
  ]
})
const planTasks = ["a", "b", "c", "d"]

/** The planner gets `plan`; each task runs `planSteps` bash calls appending to plan-runs.txt, then done. */
const model = (request: ScriptedLanguageModel.Request): ScriptedLanguageModel.Reply => {
  if (request.tools.length === 0) return { text: plan }
  const task = /Your task \(([^,]+),/.exec(promptText(request.prompt))?.[1]
  if (task === undefined) return threadWork(request)
  const step = toolResults(request.prompt).length + 1
  if (step > planSteps) return { toolCalls: [{ name: "done", params: { summary: `did ${task}` } }] }
  return {
    toolCalls: [{ name: "bash", params: { command: `echo ${task}:${step} >> plan-runs.txt; sleep 0.4` } }]
  }
}

const lines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line !== "")
    : []

const query = (url: string, text: string, values: ReadonlyArray<unknown> = []) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return (await client.query(text, [...values])).rows
    } finally {
      await client.end()
    }
  })

/** The connections that sit in `LISTEN` (of one application, or all). */
const listeners = (url: string, application?: string) =>
  Effect.map(
    query(
      url,
      "SELECT pid FROM pg_stat_activity WHERE query ILIKE 'LISTEN %' AND ($1::text IS NULL OR application_name = $1)",
      [application ?? null]
    ),
    (rows) => rows.length
  )

describe("Postgres LISTEN connection dropped", () => {
  it.live("is replaced by exactly one new listener, which wakes subscribers again", () => {
    const application = `dabgent_listen_${randomBytes(4).toString("hex")}`
    const base = inject("databaseUrl")
    const url = `${base}${base.includes("?") ? "&" : "?"}application_name=${application}`
    return Effect.gen(function* () {
      const store = yield* EventStore
      const streamId = `listen-${application}`
      expect(yield* listeners(url, application)).toBe(1)
      // Only this store's listener: other files share the cluster.
      yield* query(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN %'",
        [application]
      )
      let count = 0
      for (let i = 0; i < 100 && count === 0; i++) {
        yield* Effect.sleep("100 millis")
        count = yield* listeners(url, application)
      }
      yield* Effect.sleep("1 second")
      // node-pg reports the drop twice; a reconnect per report would leave two listeners.
      expect(yield* listeners(url, application)).toBe(1)
      const fiber = yield* Effect.fork(Stream.runCollect(Stream.take(store.subscribe({ streamId }), 1)))
      yield* Effect.sleep("200 millis")
      yield* store.append({ streamId, aggregateId: "a", events: [{ type: "t", data: 1 }] })
      // The poll is an hour: only the new listener can have woken the subscriber.
      const seen = yield* Fiber.join(fiber).pipe(Effect.timeout("10 seconds"))
      expect(Chunk.toReadonlyArray(seen).map((e) => e.data)).toEqual([1])
    }).pipe(
      Effect.provide(
        PgEventStore.layer({ url: Redacted.make(url), maxConnections: 2, pollInterval: "1 hour" })
      )
    )
  })
})

describe("Postgres restarted mid-run", () => {
  it("can create a private PostgreSQL cluster here (root and postgresql-common)", () => {
    expect(why).toBeUndefined()
  })

  let cluster: PgCluster.PrivateCluster | undefined
  beforeAll(async () => {
    cluster = await PgCluster.create()
  }, 60_000)
  afterAll(() => cluster?.drop())

  /**
   * Runs a thread session and a planning session whose tools take a moment, calls `outage`
   * once two tools of the thread have run, and checks both sessions, the markers, a subscriber
   * from before the outage and the listeners.
   */
  const sessionsAcross = (outage: (server: PgCluster.PrivateCluster) => Promise<void>, label: string) => {
    const server = cluster
    if (server === undefined) throw new Error("no private cluster")
    const url = Redacted.make(server.url)
    const dir = mkdtempSync(join(tmpdir(), "dabgent-pg-restart-"))
    const marker = join(dir, "runs.txt")
    const agentLayer = DabgentAgent.layer.pipe(
      Layer.provideMerge(Validator.layer(undefined).pipe(Layer.provideMerge(Sandbox.layerLocal(dir)))),
      Layer.provideMerge(ScriptedLanguageModel.layer(Array.from({ length: 200 }, () => model))),
      Layer.provideMerge(PgEventStore.layer({ url, maxConnections: 4 }))
    )
    return Effect.gen(function* () {
      const agent = yield* DabgentAgent
      const streamId = `restart-${randomBytes(4).toString("hex")}`
      // A second store whose poll is an hour: only a notification can wake its subscriber.
      const watcherStore = yield* Effect.map(
        Layer.build(PgEventStore.layer({ url, maxConnections: 2, pollInterval: "1 hour" })),
        Context.get(EventStore)
      )
      const seen: Array<StoredEvent> = []
      let seenBeforeOutage = 0
      let outageBegun = false
      yield* Effect.forkScoped(
        Stream.runForEach(watcherStore.subscribe({ streamId }), (event) =>
          Effect.sync(() => {
            seen.push(event)
            if (!outageBegun) seenBeforeOutage = event.sequence
          })
        )
      )
      expect(yield* listeners(server.url)).toBe(2)

      const thread = yield* Effect.fork(agent.simpleExecute("run the steps", { maxSteps: 20, streamId }))
      const planning = yield* Effect.fork(
        agent.planAndExecute("a and b, combine, report", { streamId, maxParallel: 4, maxStepsPerTask: 10 })
      )
      while (lines(marker).length < 2) yield* Effect.sleep("50 millis")
      const began = Date.now()
      const stepAtOutage = lines(marker).length
      outageBegun = true
      yield* Effect.promise(() => outage(server))
      yield* Effect.promise(() => server.waitReady())
      const stepAfterOutage = lines(marker).length
      console.log(
        `pgRestart (${label}): began after step ${stepAtOutage}, took ${Date.now() - began} ms (step ${stepAfterOutage} by then)`
      )
      expect(stepAfterOutage).toBeLessThan(steps)

      const summary = yield* Fiber.join(thread).pipe(Effect.timeout("90 seconds"))
      expect(summary.status).toBe("Done")
      const planned = yield* Fiber.join(planning).pipe(Effect.timeout("90 seconds"))
      expect({ status: planned.status, outcome: planned.outcome }).toEqual({
        status: "completed",
        outcome: "all_done"
      })
      // Every tool ran exactly once, across the outage.
      expect(lines(marker)).toEqual(Array.from({ length: steps }, (_, i) => String(i + 1)))
      expect(lines(join(dir, "plan-runs.txt")).sort()).toEqual(
        planTasks.flatMap((task) => Array.from({ length: planSteps }, (_, i) => `${task}:${i + 1}`))
      )

      // The watcher from before the outage saw everything after it too, in order, once.
      const head = yield* (yield* EventStore).head(streamId)
      for (let i = 0; i < 300 && seen.length < head; i++) yield* Effect.sleep("100 millis")
      expect(seen.map((e) => e.sequence)).toEqual(Array.from({ length: head }, (_, i) => i + 1))
      expect(head).toBeGreaterThan(seenBeforeOutage)
      const stored = Chunk.toReadonlyArray(yield* Stream.runCollect((yield* EventStore).read({ streamId })))
      expect(stored.map((e) => `${e.aggregateId}@${e.version}`)).toEqual(
        seen.map((e) => `${e.aggregateId}@${e.version}`)
      )
      // One LISTEN connection per store again (none lost, none doubled by the reconnect).
      expect(yield* listeners(server.url)).toBe(2)
    }).pipe(Effect.scoped, Effect.provide(agentLayer))
  }

  it.live(
    "pg_ctlcluster restart mid-run: a thread and a planning session complete; LISTEN wakes a subscriber from before",
    () => sessionsAcross((server) => server.restart(), "restart"),
    150_000
  )

  it.live(
    "the server is down for 5 seconds mid-run: workers and the run's own subscription wait it out",
    () =>
      sessionsAcross(async (server) => {
        await server.stop()
        await new Promise((resolve) => setTimeout(resolve, 5_000))
        await server.start()
      }, "down 5 s"),
    150_000
  )
})
