/**
 * Bad input end to end: each case ends in a typed error (or a recorded failure) that says what
 * was wrong, and nothing already in the log is lost.
 *
 * Covered elsewhere and not repeated here: invalid tool arguments and unknown tools
 * (test/workers/ThreadRun.test.ts "bad tool calls ..."), malformed plans and plans with a cycle
 * (test/planner/LlmPlanner.test.ts re-ask and fallback, test/planner/Plan.test.ts,
 * test/coordinator/Planning.test.ts "malformed planner output ..."), path traversal, symlink
 * escape, hanging commands and 10 MB of output (test/sandbox/Sandbox.test.ts), a damaged row
 * at the store level (test/store/conformance.ts "damaged rows"), a bad API key
 * (test/cli/thread.e2e.test.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import { it as plainIt } from "vitest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import Database from "better-sqlite3"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DabgentAgent, runSession, startThread } from "../../src/DabgentAgent.js"
import * as OpenAiCompat from "../../src/llm/OpenAiCompat.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { EventStore } from "../../src/store/index.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import * as Validator from "../../src/tools/Validator.js"
import { writeRunDone } from "../support/agentScript.js"
import { runCli } from "../support/cli.js"
import * as FakeChat from "../support/fakeChatServer.js"
import { tempSqliteFile } from "../support/stores.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "dabgent-bad-input-"))

/** The whole stream, undecoded: what the log holds whatever the codecs think of it. */
const rawLog = Effect.flatMap(EventStore, (store) =>
  Effect.map(Stream.runCollect(store.read({ streamId: "dabgent" })), Chunk.toReadonlyArray)
)

/** A chat-completions server answering every request with `answer`. */
const rawServer = async (answer: (res: ServerResponse, index: number) => void) => {
  let requests = 0
  const server = createServer((req: IncomingMessage, res) => {
    req.resume()
    req.on("end", () => answer(res, requests++))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** The agent on the real OpenAI-compatible client, with quick retries. */
const compatAgent = (baseUrl: string, dir: string) =>
  DabgentAgent.layer.pipe(
    Layer.provideMerge(Validator.layer(undefined).pipe(Layer.provideMerge(Sandbox.layerLocal(dir)))),
    Layer.provideMerge(
      OpenAiCompat.layer({
        baseUrl,
        model: "m",
        retry: { maxRetries: 2, baseDelay: "10 millis", maxDelay: "50 millis" }
      }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    ),
    Layer.provideMerge(SqliteEventStore.layer({ filename: tempSqliteFile() }))
  )

describe("an LLM that answers garbage or fails", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly answer: (res: ServerResponse) => void
    readonly reason: RegExp
    readonly requests: number
  }> = [
    {
      name: "a body that is not JSON",
      answer: (res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end("<html><body>502 Bad Gateway</body></html>")
      },
      reason: /model error/,
      requests: 1
    },
    {
      name: "JSON that is not a chat completion",
      answer: (res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ hello: "world" }))
      },
      reason: /model error/,
      // A malformed turn is asked again twice, then the thread fails.
      requests: 3
    },
    {
      name: "500 on every request",
      answer: (res) => {
        res.writeHead(500, { "content-type": "application/json" })
        res.end(JSON.stringify(FakeChat.serverError().body))
      },
      reason: /model error.*500/s,
      requests: 3
    }
  ]
  for (const c of cases) {
    it.live(`${c.name}: the thread fails with the reason recorded; the prompt is kept`, () =>
      Effect.gen(function* () {
        const server = yield* Effect.acquireRelease(
          Effect.promise(() => rawServer((res) => c.answer(res))),
          (s) => Effect.promise(() => s.close())
        )
        const result = yield* Effect.gen(function* () {
          const summary = yield* (yield* DabgentAgent).simpleExecute("say hi", { maxSteps: 5 })
          return { summary, log: yield* rawLog }
        }).pipe(Effect.provide(compatAgent(server.url, tempDir())))
        expect(result.summary.status).toBe("Failed")
        expect(result.summary.message).toMatch(c.reason)
        expect(result.log.map((e) => e.type)).toEqual(["thread.Prompted", "thread.ThreadFailed"])
        expect(result.log[1]?.data).toEqual({ reason: result.summary.message })
        // Retried as the policy says (1 + 2 retries for a 500), not forever.
        expect(server.requests()).toBe(c.requests)
      }).pipe(Effect.scoped)
    )
  }
})

describe("events nobody knows", () => {
  it.live(
    "a foreign family's events beside a session's (a sibling aggregate, elsewhere in the stream) are passed over; the session completes",
    () => {
      const dir = tempDir()
      const layer = DabgentAgent.layer.pipe(
        Layer.provideMerge(Validator.layer(undefined).pipe(Layer.provideMerge(Sandbox.layerLocal(dir)))),
        Layer.provideMerge(ScriptedLanguageModel.layer(Array.from({ length: 3 }, () => writeRunDone()))),
        Layer.provideMerge(SqliteEventStore.layer({ filename: tempSqliteFile() }))
      )
      return Effect.gen(function* () {
        const store = yield* EventStore
        const sessionId = yield* startThread("write and run hello.sh", { maxSteps: 10 })
        const foreign = (aggregateId: string) =>
          store.append({
            streamId: "dabgent",
            aggregateId,
            events: [{ type: "audit.Noted", data: { by: "x" } }]
          })
        yield* foreign(`${sessionId}/audit`)
        yield* foreign("elsewhere")
        const summary = yield* runSession(sessionId).pipe(Effect.timeout("30 seconds"))
        expect(summary.status).toBe("Done")
        const log = yield* rawLog
        expect(log.filter((e) => e.type === "audit.Noted").length).toBe(2)
        expect(log.at(-1)?.type).toBe("thread.ThreadDone")
      }).pipe(Effect.provide(layer))
    }
  )

  // An event of a family nobody follows still takes a version of its aggregate: the workers
  // count it, so their next append does not conflict forever.
  plainIt(
    "a foreign event on the session's own aggregate takes a version; the run still completes",
    { timeout: 20_000 },
    async () => {
      const dir = tempDir()
      const layer = DabgentAgent.layer.pipe(
        Layer.provideMerge(Validator.layer(undefined).pipe(Layer.provideMerge(Sandbox.layerLocal(dir)))),
        Layer.provideMerge(ScriptedLanguageModel.layer(Array.from({ length: 3 }, () => writeRunDone()))),
        Layer.provideMerge(SqliteEventStore.layer({ filename: tempSqliteFile() }))
      )
      const summary = await Effect.runPromise(
        Effect.gen(function* () {
          const store = yield* EventStore
          const sessionId = yield* startThread("write and run hello.sh", { maxSteps: 10 })
          yield* store.append({
            streamId: "dabgent",
            aggregateId: sessionId,
            events: [{ type: "audit.Noted", data: { by: "x" } }]
          })
          return yield* runSession(sessionId).pipe(Effect.timeout("8 seconds"))
        }).pipe(Effect.provide(layer))
      )
      expect(summary.status).toBe("Done")
    }
  )

  it.live(
    "an unknown type in a known family fails the run with a DecodeError naming it; nothing is appended after",
    () => {
      const dir = tempDir()
      const layer = DabgentAgent.layer.pipe(
        Layer.provideMerge(Validator.layer(undefined).pipe(Layer.provideMerge(Sandbox.layerLocal(dir)))),
        Layer.provideMerge(ScriptedLanguageModel.layer(Array.from({ length: 3 }, () => writeRunDone()))),
        Layer.provideMerge(SqliteEventStore.layer({ filename: tempSqliteFile() }))
      )
      return Effect.gen(function* () {
        const store = yield* EventStore
        const sessionId = yield* startThread("write and run hello.sh", { maxSteps: 10 })
        // Written by a newer dabgent, say: this one cannot know what it means for the thread.
        yield* store.append({
          streamId: "dabgent",
          aggregateId: sessionId,
          events: [{ type: "thread.Paused", data: {} }]
        })
        const before = yield* rawLog
        const error = yield* Effect.flip(runSession(sessionId).pipe(Effect.timeout("30 seconds")))
        expect(error).toMatchObject({
          _tag: "DecodeError",
          streamId: "dabgent",
          sequence: 2,
          type: "thread.Paused"
        })
        expect(yield* rawLog).toEqual(before)
      }).pipe(Effect.provide(layer))
    }
  )
})

const StoredLine = Schema.parseJson(
  Schema.Struct({ sequence: Schema.Number, type: Schema.String, aggregateId: Schema.String })
)

describe("a damaged row in the SQLite file", () => {
  it("events and resume fail naming stream, sequence and type (exit 2); no row is lost or added", async () => {
    const dir = tempDir()
    const storeFile = join(dir, "events.db")
    const server = await FakeChat.start({
      turns: [
        { toolCalls: [{ name: "bash", params: { command: "echo hi" } }] },
        { toolCalls: [{ name: "done", params: { summary: "said hi" } }] }
      ]
    })
    try {
      const base = ["--model", "openai-compat:m", "--base-url", server.url, "--sandbox", "local"]
      const first = await runCli(["thread", "say hi", ...base, "--store", storeFile], { cwd: dir })
      expect(first.code).toBe(0)
      const sessionId = /session (t-[0-9a-f]+)/.exec(first.stderr)?.[1] ?? ""
      const rows = () => {
        const db = new Database(storeFile, { readonly: true })
        try {
          return db.prepare("SELECT sequence, type, data FROM dabgent_events ORDER BY sequence").all()
        } finally {
          db.close()
        }
      }
      const db = new Database(storeFile)
      const damaged = Schema.decodeUnknownSync(Schema.Struct({ sequence: Schema.Number }))(
        db
          .prepare("SELECT sequence FROM dabgent_events WHERE type = 'thread.LlmCompleted' ORDER BY sequence")
          .get()
      )
      db.prepare('UPDATE dabgent_events SET data = \'{"text": "cut off\' WHERE sequence = ?').run(
        damaged.sequence
      )
      db.close()
      const before = rows()

      const events = await runCli(["events", sessionId, "--json", "--store", storeFile], { cwd: dir })
      expect(events.code).toBe(2)
      expect(events.stderr).toContain(
        `cannot decode event thread.LlmCompleted at dabgent#${damaged.sequence}`
      )
      // The events before the damaged one were printed.
      const printed = events.stdout
        .trim()
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => Schema.decodeUnknownSync(StoredLine)(line))
      expect(printed.map((e) => e.sequence)).toEqual(
        Array.from({ length: damaged.sequence - 1 }, (_, i) => i + 1)
      )

      const resumed = await runCli(["resume", sessionId, "--store", storeFile], { cwd: dir })
      expect(resumed.code).toBe(2)
      expect(resumed.stderr).toContain(`dabgent#${damaged.sequence}`)
      expect(resumed.stderr).toContain("thread.LlmCompleted")
      expect(rows()).toEqual(before)
    } finally {
      await server.close()
    }
  }, 90_000)
})

describe("a store that cannot be reached", () => {
  it("the CLI exits 2 with a clear message that does not show the password", async () => {
    const dir = tempDir()
    const password = "hunter2-do-not-print"
    const store = `postgres://dabgent:${password}@127.0.0.1:1/nowhere`
    for (const args of [
      ["thread", "hi", "--model", "openai-compat:m", "--base-url", "http://127.0.0.1:9/v1", "--store", store],
      ["sessions", "--store", store]
    ]) {
      const result = await runCli(args, { cwd: dir })
      expect({ args: args[0], code: result.code }).toEqual({ args: args[0], code: 2 })
      expect(result.stderr).toMatch(/event store .*failed|cannot|connect/i)
      expect(result.stderr).toContain("ECONNREFUSED")
      expect(result.stdout + result.stderr).not.toContain(password)
    }
  }, 60_000)
})
