/**
 * The web UI's JSON API and live feeds against a real store (memory, a SQLite file, a Postgres
 * database of its own), served over HTTP on a free port and called with fetch.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { request as httpRequest } from "node:http"
import { mkdtempSync } from "node:fs"
import { randomBytes } from "node:crypto"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Planning from "../../src/coordinator/Planning.js"
import { runSession, startThread } from "../../src/DabgentAgent.js"
import * as EventCodec from "../../src/events/EventCodec.js"
import * as EventLog from "../../src/events/EventLog.js"
import {
  SessionEvents,
  SessionResumed,
  SessionStarted,
  sessionAggregateId
} from "../../src/events/SessionEvents.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { EventStore, type StoreError } from "../../src/store/index.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import * as Validator from "../../src/tools/Validator.js"
import { isLoopback } from "../../src/ui/Loopback.js"
import type * as EventFeed from "../../src/ui/EventFeed.js"
import type * as SessionSummaries from "../../src/ui/SessionSummaries.js"
import * as UiServer from "../../src/ui/UiServer.js"
import { toolResults } from "../support/agentScript.js"
import { freshDatabase } from "../support/freshDatabase.js"
import { testDatabaseUrl } from "../support/postgres.js"
import * as Sse from "../support/sse.js"
import { backends } from "../support/stores.js"

/** Each backend with a store of its own (Postgres: a new database), and a count of open subscriptions. */
const storeFor = (name: string, fallback: () => Layer.Layer<EventStore, StoreError>) =>
  Effect.gen(function* () {
    const base =
      name === "postgres"
        ? PgEventStore.layer({ url: yield* freshDatabase(testDatabaseUrl()), maxConnections: 4 })
        : fallback()
    const open = { subscriptions: 0 }
    const counted = Layer.effect(
      EventStore,
      Effect.map(EventStore, (store) => ({
        ...store,
        subscribe: (query: Parameters<typeof store.subscribe>[0]) =>
          store
            .subscribe(query)
            .pipe(
              Stream.onStart(Effect.sync(() => (open.subscriptions += 1))),
              Stream.ensuring(Effect.sync(() => (open.subscriptions -= 1)))
            )
      }))
    ).pipe(Layer.provide(base))
    return { layer: counted, open }
  })

const serve = (options: Partial<UiServer.UiServerOptions> = {}) =>
  UiServer.start({
    port: 0,
    host: "127.0.0.1",
    allowAnswer: true,
    heartbeat: "200 millis",
    streamId: "dabgent",
    storeLabel: "test store",
    version: "test",
    ...options
  })

interface ErrorBody {
  readonly error: string
  readonly message: string
}

interface EventsPage {
  readonly events: ReadonlyArray<EventFeed.EventJson>
  readonly last: number
  readonly more: boolean
}

const getJson = <T = ErrorBody>(url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: (await response.json()) as T
    }
  })

const postAnswer = (url: string, body: string, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body
    })
    return { status: response.status, body: (await response.json()) as unknown }
  })

const newId = (prefix: string) => `${prefix}-ui${randomBytes(4).toString("hex")}`

const recordStart = (sessionId: string, mode: "thread" | "plan", input: string) =>
  Effect.flatMap(EventStore, (store) =>
    EventLog.make(store, EventCodec.make(SessionEvents)).append(SessionEvents, {
      streamId: "dabgent",
      aggregateId: sessionAggregateId(sessionId),
      events: [
        new SessionStarted({
          mode,
          input,
          model: "scripted:test",
          workdir: "/tmp",
          sandbox: "local",
          allowNetwork: false,
          maxSteps: 5
        })
      ]
    })
  )

const resumeRecord = (sessionId: string) =>
  Effect.flatMap(EventStore, (store) =>
    EventLog.make(store, EventCodec.make(SessionEvents)).append(SessionEvents, {
      streamId: "dabgent",
      aggregateId: sessionAggregateId(sessionId),
      events: [new SessionResumed({ model: "scripted:other", workdir: "/tmp", sandbox: "local" })]
    })
  )

/** A listed thread session that asked the user and waits (the run stopped in UserWait). */
const waitingThread = Effect.gen(function* () {
  const sessionId = newId("t")
  yield* recordStart(sessionId, "thread", "paint the button")
  yield* startThread("paint the button", { sessionId, maxSteps: 5 })
  const summary = yield* runSession(sessionId).pipe(
    Effect.provide(
      ScriptedLanguageModel.layer([
        {
          text: "I need to know the color.",
          toolCalls: [{ name: "ask_user", params: { question: "Which color should the button be?" } }],
          usage: { inputTokens: 40, outputTokens: 8 }
        }
      ])
    )
  )
  expect(summary.status).toBe("UserWait")
  return sessionId
})

const twoTasks = JSON.stringify({
  tasks: [
    { id: "a", description: "write a.txt", kind: "tool_call", dependencies: [] },
    { id: "b", description: "read a.txt back", kind: "processing", dependencies: ["a"] }
  ]
})

/** A planning session (started from the API: no SessionStarted) that ran to the end. */
const finishedPlan = Effect.gen(function* () {
  const turn = (request: ScriptedLanguageModel.Request): ScriptedLanguageModel.Reply => {
    if (request.tools.length === 0) return { text: twoTasks, usage: { inputTokens: 30, outputTokens: 20 } }
    if (toolResults(request.prompt).length === 0)
      return {
        toolCalls: [{ name: "bash", params: { command: "echo done > a.txt; echo wrote" } }],
        usage: { inputTokens: 20, outputTokens: 5 }
      }
    return {
      toolCalls: [{ name: "done", params: { summary: "ok" } }],
      usage: { inputTokens: 10, outputTokens: 2 }
    }
  }
  const summary = yield* Planning.planAndExecute("write a.txt then read it", { maxStepsPerTask: 4 }).pipe(
    Effect.provide(ScriptedLanguageModel.layer(Array.from({ length: 10 }, () => turn)))
  )
  expect(summary.outcome).toBe("all_done")
  return summary.sessionId
})

const agentParts = Layer.mergeAll(
  Validator.layerAcceptAll,
  Sandbox.layerLocal(mkdtempSync(join(tmpdir(), "dabgent-ui-")))
)

for (const backend of backends()) {
  const run = <A, E>(
    body: (open: {
      subscriptions: number
    }) => Effect.Effect<A, E, EventStore | Sandbox.Sandbox | Validator.Validator | Scope.Scope>
  ) =>
    Effect.scoped(
      Effect.gen(function* () {
        const { layer, open } = yield* storeFor(backend.name, backend.layer)
        return yield* body(open).pipe(Effect.provide(Layer.merge(agentParts, layer)))
      })
    )

  describe(`dabgent ui API (${backend.name})`, () => {
    it.live(`[${backend.name}] lists sessions and shows a thread session waiting on a question`, () =>
      run(() =>
        Effect.gen(function* () {
          const sessionId = yield* waitingThread
          const { url } = yield* serve()

          const list = yield* getJson<{ sessions: ReadonlyArray<SessionSummaries.SessionRow> }>(
            `${url}api/sessions`
          )
          expect(list.status).toBe(200)
          expect(list.body.sessions).toEqual([
            expect.objectContaining({
              id: sessionId,
              mode: "thread",
              status: "UserWait",
              ended: false,
              steps: 1,
              tokens: 48,
              model: "scripted:test",
              input: "paint the button",
              listed: true
            })
          ])

          const detail = yield* getJson<SessionSummaries.SessionDetail>(`${url}api/sessions/${sessionId}`)
          expect(detail.status).toBe(200)
          expect(detail.body.session).toMatchObject({ id: sessionId, mode: "thread", status: "UserWait" })
          expect(detail.body.thread).toMatchObject({ aggregateId: sessionId, status: "UserWait", steps: 1 })
          expect(detail.body.question).toEqual({
            aggregateId: sessionId,
            question: "Which color should the button be?"
          })
          expect(detail.body.lastSequence).toBeGreaterThan(1)
        })
      )
    )

    it.live(`[${backend.name}] shows a planning session's task graph and pages through its events`, () =>
      run(() =>
        Effect.gen(function* () {
          const sessionId = yield* finishedPlan
          const { url } = yield* serve()

          const detail = yield* getJson<SessionSummaries.SessionDetail>(`${url}api/sessions/${sessionId}`)
          expect(detail.status).toBe(200)
          expect(detail.body.session).toMatchObject({
            id: sessionId,
            mode: "plan",
            status: "completed: all_done",
            ended: true,
            listed: false,
            steps: 4
          })
          expect(detail.body.plan?.tasks).toEqual([
            expect.objectContaining({
              id: "a",
              dependencies: [],
              status: "completed",
              aggregateId: `${sessionId}/task-a`,
              threadStatus: "Done",
              steps: 2
            }),
            expect.objectContaining({ id: "b", dependencies: ["a"], status: "completed", kind: "processing" })
          ])
          expect(detail.body.question).toBeUndefined()

          const all = yield* getJson<EventsPage>(`${url}api/sessions/${sessionId}/events?after=0`)
          expect(all.status).toBe(200)
          const events = all.body.events
          expect(events[0]?.type).toBe("planner.PlanningStarted")
          expect(events.at(-1)?.type).toBe("planner.PlanningCompleted")
          expect(
            events.every((e) => e.aggregateId === sessionId || e.aggregateId.startsWith(`${sessionId}/`))
          ).toBe(true)
          const sequences = events.map((e) => e.sequence)
          expect([...sequences].sort((x, y) => x - y)).toEqual(sequences)
          expect(events.some((e) => e.type === "thread.ToolCompleted")).toBe(true)
          expect(all.body.more).toBe(false)

          const second = sequences[1] ?? 0
          const page = yield* getJson<EventsPage>(
            `${url}api/sessions/${sessionId}/events?after=${second}&limit=2`
          )
          expect(page.body.events.map((e) => e.sequence)).toEqual(sequences.slice(2, 4))
          expect(page.body.last).toBe(sequences[3])
          expect(page.body.more).toBe(true)

          const end = yield* getJson<EventsPage>(
            `${url}api/sessions/${sessionId}/events?after=${sequences.at(-1)}`
          )
          expect(end.body).toMatchObject({ events: [], more: false, last: sequences.at(-1) })
        })
      )
    )

    it.live(`[${backend.name}] bad ids and parameters get 400 or 404 with a JSON error`, () =>
      run(() =>
        Effect.gen(function* () {
          const sessionId = newId("t")
          yield* startThread("hello", { sessionId })
          const { url } = yield* serve()
          const cases: ReadonlyArray<readonly [string, number, string]> = [
            [`api/sessions/t-nosuchsession`, 404, "NotFound"],
            [`api/sessions/t-nosuchsession/events`, 404, "NotFound"],
            [`api/sessions/t-nosuchsession/stream`, 404, "NotFound"],
            [`api/sessions/bad%20id`, 400, "BadRequest"],
            [`api/sessions/..%2Fx/events`, 400, "BadRequest"],
            [`api/sessions/${sessionId}/events?after=abc`, 400, "BadRequest"],
            [`api/sessions/${sessionId}/events?after=-1`, 400, "BadRequest"],
            [`api/sessions/${sessionId}/events?after=1.5`, 400, "BadRequest"],
            [`api/sessions/${sessionId}/events?after=1&after=2`, 400, "BadRequest"],
            [`api/sessions/${sessionId}/events?limit=0`, 400, "BadRequest"],
            [`api/sessions/${sessionId}/stream?after=x`, 400, "BadRequest"],
            [`api/stream?after=-5`, 400, "BadRequest"],
            [`api/nothing-here`, 404, "NotFound"]
          ]
          for (const [path, status, error] of cases) {
            const response = yield* getJson(`${url}${path}`)
            expect({ path, status: response.status, error: response.body.error }).toEqual({
              path,
              status,
              error
            })
            expect(response.type).toContain("application/json")
            expect(typeof response.body.message).toBe("string")
          }
          const ok = yield* getJson<EventsPage>(`${url}api/sessions/${sessionId}/events?after=0&limit=5`)
          expect(ok.status).toBe(200)
          expect(ok.body.events.map((e) => e.type)).toEqual(["thread.Prompted"])
        })
      )
    )

    it.live(
      `[${backend.name}] the session feed sends the history, then an event appended after connect`,
      () =>
        run((open) =>
          Effect.gen(function* () {
            const sessionId = newId("t")
            yield* startThread("watch me", { sessionId })
            const { url } = yield* serve()

            const feed = yield* Effect.promise(() =>
              Sse.connect(`${url}api/sessions/${sessionId}/stream?after=0`)
            )
            expect(feed.status).toBe(200)
            expect(feed.contentType).toContain("text/event-stream")
            const prompted = yield* Effect.promise(() => feed.next((m) => m.event === "stored"))
            const first = JSON.parse(prompted.data)
            expect(first).toMatchObject({
              aggregateId: sessionId,
              type: "thread.Prompted",
              data: { prompt: "watch me" }
            })
            expect(prompted.id).toBe(String(first.sequence))

            const appended = yield* resumeRecord(sessionId)
            const live = yield* Effect.promise(() => feed.next((m) => m.event === "stored"))
            expect(JSON.parse(live.data)).toMatchObject({
              aggregateId: `${sessionId}/session`,
              type: "session.SessionResumed",
              sequence: appended.lastSequence
            })
            expect(live.id).toBe(String(appended.lastSequence))
            // Heartbeats keep the idle connection open.
            yield* Effect.sleep("600 millis")
            expect(feed.comments()).toContain("heartbeat")

            // A reconnecting browser sends Last-Event-ID and gets only what came after it.
            const resumed = yield* Effect.promise(() =>
              Sse.connect(`${url}api/sessions/${sessionId}/stream?after=0`, {
                "last-event-id": prompted.id ?? ""
              })
            )
            const next = yield* Effect.promise(() => resumed.next((m) => m.event === "stored"))
            expect(JSON.parse(next.data).sequence).toBe(appended.lastSequence)

            // Both feeds hold a subscription; leaving closes it.
            expect(open.subscriptions).toBe(2)
            feed.close()
            resumed.close()
            const deadline = Date.now() + 10_000
            while (open.subscriptions > 0 && Date.now() < deadline) yield* Effect.sleep("50 millis")
            expect(open.subscriptions).toBe(0)
          })
        )
    )

    it.live(`[${backend.name}] the change feed notices an event of any session`, () =>
      run(() =>
        Effect.gen(function* () {
          const { url } = yield* serve()
          const feed = yield* Effect.promise(() => Sse.connect(`${url}api/stream`))
          // Wait for the first byte: the subscription starts from the head at connect.
          yield* Effect.sleep("300 millis")
          const sessionId = newId("t")
          yield* recordStart(sessionId, "thread", "new one")
          const notice = yield* Effect.promise(() => feed.next((m) => m.event === "change"))
          expect(JSON.parse(notice.data)).toMatchObject({
            sessionId,
            aggregateId: `${sessionId}/session`,
            type: "session.SessionStarted"
          })
          feed.close()
        })
      )
    )

    it.live(`[${backend.name}] answers a waiting session like dabgent answer, only when allowed`, () =>
      run(() =>
        Effect.gen(function* () {
          const sessionId = yield* waitingThread
          const readOnly = yield* serve({ allowAnswer: false })
          const refused = yield* postAnswer(
            `${readOnly.url}api/sessions/${sessionId}/answer`,
            '{"text":"blue"}'
          )
          expect(refused).toMatchObject({ status: 403, body: { error: "Forbidden" } })

          const { url } = yield* serve()
          const answerUrl = `${url}api/sessions/${sessionId}/answer`
          expect(yield* postAnswer(answerUrl, "blue", { "content-type": "text/plain" })).toMatchObject({
            status: 415,
            body: { error: "UnsupportedMediaType" }
          })
          expect(yield* postAnswer(answerUrl, '{"text":"   "}')).toMatchObject({
            status: 400,
            body: { error: "BadRequest" }
          })
          expect(yield* postAnswer(answerUrl, "{not json")).toMatchObject({
            status: 400,
            body: { error: "BadRequest" }
          })
          expect(
            yield* postAnswer(answerUrl, '{"text":"blue"}', { origin: "http://evil.example" })
          ).toMatchObject({ status: 403 })
          expect(
            yield* postAnswer(`${url}api/sessions/t-nosuchsession/answer`, '{"text":"blue"}')
          ).toMatchObject({ status: 404, body: { error: "NotFound" } })

          const answered = yield* postAnswer(answerUrl, '{"text":"blue"}')
          expect(answered).toEqual({
            status: 200,
            body: { answered: true, question: "Which color should the button be?" }
          })
          expect(yield* postAnswer(answerUrl, '{"text":"red"}')).toMatchObject({
            status: 409,
            body: { error: "Conflict" }
          })
          const detail = yield* getJson<SessionSummaries.SessionDetail>(`${url}api/sessions/${sessionId}`)
          expect(detail.body.question).toBeUndefined()
          const events = yield* getJson<EventsPage>(`${url}api/sessions/${sessionId}/events`)
          expect(events.body.events).toContainEqual(
            expect.objectContaining({
              type: "thread.UserAnswered",
              data: expect.objectContaining({ answer: "blue" })
            })
          )
        })
      )
    )
  })
}

describe("dabgent ui server", () => {
  it.live("on loopback it refuses requests addressed to another host name (DNS rebinding)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { port } = yield* serve()
        const get = (host: string) =>
          Effect.promise(
            () =>
              new Promise<number>((resolve, reject) => {
                const req = httpRequest(
                  { host: "127.0.0.1", port, path: "/api/sessions", headers: { host } },
                  (res) => {
                    res.resume()
                    resolve(res.statusCode ?? 0)
                  }
                )
                req.on("error", reject)
                req.end()
              })
          )
        expect(yield* get("evil.example:80")).toBe(403)
        expect(yield* get(`localhost:${port}`)).toBe(200)
        expect(yield* get(`127.0.0.1:${port}`)).toBe(200)
      }).pipe(Effect.provide(EventStore.layerMemory))
    )
  )

  it.live("serves the page", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { url } = yield* serve()
        const response = yield* Effect.promise(() => fetch(url))
        expect(response.status).toBe(200)
        expect(response.headers.get("content-type")).toContain("text/html")
        expect(yield* Effect.promise(() => response.text())).toContain("<title>dabgent")
      }).pipe(Effect.provide(EventStore.layerMemory))
    )
  )

  it("knows loopback addresses", () => {
    for (const host of ["127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"])
      expect(isLoopback(host)).toBe(true)
    for (const host of ["0.0.0.0", "::", "192.168.1.4", "example.com"]) expect(isLoopback(host)).toBe(false)
  })
})
