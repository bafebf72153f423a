/**
 * The web UI in a real browser (Debian's Chromium driven by playwright-core) while a scripted
 * planning session runs against a SQLite file: the session appears in the list, its tasks change
 * status live without a reload, a clarification is answered from the page and the session goes
 * on, and a tool run's output opens. A screenshot goes to test-results/ui-session.png.
 *
 * Chromium is required: without it this test fails (install it with `apt-get install -y
 * chromium`, or point DABGENT_CHROMIUM at a Chromium binary).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import * as Planning from "../../src/coordinator/Planning.js"
import { runSession, startThread } from "../../src/DabgentAgent.js"
import * as EventCodec from "../../src/events/EventCodec.js"
import * as EventLog from "../../src/events/EventLog.js"
import { SessionEvents, SessionStarted, sessionAggregateId } from "../../src/events/SessionEvents.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { EventStore } from "../../src/store/index.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import * as Validator from "../../src/tools/Validator.js"
import * as UiServer from "../../src/ui/UiServer.js"
import { promptText, toolResults } from "../support/agentScript.js"
import { root } from "../support/cli.js"
import { tempSqliteFile } from "../support/stores.js"

const executablePath = process.env.DABGENT_CHROMIUM ?? "/usr/bin/chromium"

const launch = Effect.acquireRelease(
  Effect.promise(async () => {
    if (!existsSync(executablePath))
      throw new Error(
        `no Chromium at ${executablePath}: install it (apt-get install -y chromium) or set DABGENT_CHROMIUM`
      )
    const userDataDir = mkdtempSync(join(tmpdir(), "dabgent-chromium-"))
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync"
      ]
    })
    return { context, userDataDir }
  }),
  ({ context, userDataDir }) =>
    Effect.promise(async () => {
      await context.close()
      rmSync(userDataDir, { recursive: true, force: true })
    })
)

const plan = JSON.stringify({
  tasks: [
    {
      id: "setup",
      description: "Write greet.sh, a script that greets a name",
      kind: "tool_call",
      dependencies: []
    },
    {
      id: "name",
      description: "Which name should the greeting use?",
      kind: "clarification",
      dependencies: []
    },
    {
      id: "greet",
      description: "Run greet.sh with the chosen name",
      kind: "tool_call",
      dependencies: ["setup", "name"]
    },
    { id: "report", description: "Report the greeting", kind: "processing", dependencies: ["greet"] }
  ]
})

type Reply = ScriptedLanguageModel.Reply

/** A model that takes its time (so a watcher sees each step) and works each task from its prompt. */
const pacedModel = (request: ScriptedLanguageModel.Request): Effect.Effect<Reply> =>
  Effect.sleep("500 millis").pipe(
    Effect.as(
      ((): Reply => {
        if (request.tools.length === 0) return { text: plan, usage: { inputTokens: 420, outputTokens: 160 } }
        const prompt = promptText(request.prompt)
        const task = /Your task \(([^,]+),/.exec(prompt)?.[1] ?? "?"
        const seen = toolResults(request.prompt)
        const usage = { inputTokens: 300 + 120 * seen.length, outputTokens: 40 }
        if (task === "setup" && seen.length === 0)
          return {
            text: "I'll write the greeting script.",
            toolCalls: [
              {
                name: "write_file",
                params: {
                  path: "greet.sh",
                  content: 'sleep 1\necho "Hello, $1!"\necho "(greeted at $(date +%H:%M))"\n'
                }
              }
            ],
            usage
          }
        if (task === "greet" && seen.length === 0) {
          const name = /- name \([^)]*\): (.+)/.exec(prompt)?.[1]?.trim() ?? "nobody"
          return {
            text: `Running the script for ${name}.`,
            toolCalls: [{ name: "bash", params: { command: `bash greet.sh ${JSON.stringify(name)}` } }],
            usage
          }
        }
        if (task === "report" && seen.length === 0)
          return {
            text: "Checking the workspace before I report.",
            toolCalls: [{ name: "bash", params: { command: "ls -l greet.sh && exit 3" } }],
            usage
          }
        const last = seen.at(-1)
        const summary =
          task === "greet"
            ? (String(last?.result ?? "")
                .split("\n")
                .find((line) => line.startsWith("Hello")) ?? "no greeting")
            : `${task} finished`
        return { text: "Done.", toolCalls: [{ name: "done", params: { summary } }], usage }
      })()
    )
  )

/** Records the session as `dabgent coordinate` does, then runs it; when it waits for an answer,
 * waits until one is recorded and runs it again, as `dabgent resume` would. */
const drive = (sessionId: string, input: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    yield* EventLog.make(store, EventCodec.make(SessionEvents)).append(SessionEvents, {
      streamId: "dabgent",
      aggregateId: sessionAggregateId(sessionId),
      events: [
        new SessionStarted({
          mode: "plan",
          input,
          model: "scripted:paced",
          workdir: "/tmp/greeting",
          sandbox: "local",
          allowNetwork: false,
          maxSteps: 6
        })
      ]
    })
    yield* Planning.startPlanning(input, { sessionId, maxParallel: 2 })
    let summary = yield* Planning.runPlanSession(sessionId, { maxStepsPerTask: 6 })
    let answers = 0
    while (summary.status === "waiting") {
      answers += 1
      yield* store
        .subscribe({ streamId: "dabgent", aggregateId: sessionId, types: ["planner.ClarificationReceived"] })
        .pipe(Stream.take(answers), Stream.runDrain)
      summary = yield* Planning.runPlanSession(sessionId, { maxStepsPerTask: 6 })
    }
    return summary
  })

const step = <A>(what: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (error) => new Error(`${what}: ${String(error)}`) })

const statusOf = (page: Page, task: string) =>
  page.locator(`[data-task="${task}"]`).getAttribute("data-status", { timeout: 30_000 })

describe("dabgent ui in a browser", () => {
  it.live(
    "follows a planning session live, answers its question and opens a tool's output",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { url } = yield* UiServer.start({
            port: 0,
            host: "127.0.0.1",
            allowAnswer: true,
            heartbeat: "5 seconds",
            streamId: "dabgent",
            storeLabel: "test-store.db",
            version: "test"
          })
          const { context } = yield* launch
          const browser: BrowserContext = context
          const page = yield* step("open", () => browser.newPage())
          const consoleErrors: Array<string> = []
          page.on("pageerror", (error) => consoleErrors.push(String(error)))
          const out = join(root, "test-results")
          mkdirSync(out, { recursive: true })
          // On a failure, what the page showed.
          yield* Effect.addFinalizer((exit) =>
            exit._tag === "Failure"
              ? Effect.promise(() =>
                  page.screenshot({ path: join(out, "ui-failure.png"), fullPage: true })
                ).pipe(Effect.ignore)
              : Effect.void
          )
          yield* step("load the list", () => page.goto(url))
          yield* step("empty list", () => page.getByText("No sessions in this store yet").waitFor())
          // Marks this document: a reload would lose it.
          yield* step("mark", () => page.evaluate("window.__sameDocument = true"))

          const sessionId = "p-greeting"
          const driver = yield* Effect.fork(
            drive(sessionId, "Write a greeting script, ask me whom to greet, run it and report")
          )

          // The new session shows up in the list by itself.
          const row = page.locator(`[data-session-row="${sessionId}"]`)
          yield* step("row appears", () => row.waitFor({ timeout: 30_000 }))
          yield* step("open the session", () => row.click())
          yield* step("graph", () => page.locator('[data-task="setup"]').waitFor({ timeout: 30_000 }))

          // Task statuses change under our eyes.
          const seen = new Set<string | null>()
          seen.add(yield* step("status", () => statusOf(page, "setup")))
          yield* step("setup runs", () =>
            page.locator('[data-task="setup"][data-status="running"]').waitFor({ timeout: 30_000 })
          )
          seen.add("running")
          yield* step("setup completes", () =>
            page.locator('[data-task="setup"][data-status="completed"]').waitFor({ timeout: 30_000 })
          )
          seen.add("completed")
          expect(seen.has("running") && seen.has("completed")).toBe(true)
          expect(yield* step("greet still planned", () => statusOf(page, "greet"))).toBe("planned")

          // The clarification: answered from the page.
          yield* step("question", () => page.locator("#question").waitFor({ timeout: 30_000 }))
          expect(yield* step("question text", () => page.locator("#question .q").textContent())).toBe(
            "Which name should the greeting use?"
          )
          expect(yield* step("name waits", () => statusOf(page, "name"))).toBe("needs_clarification")
          yield* step("question screenshot", () =>
            page.screenshot({ path: join(out, "ui-question.png"), fullPage: true })
          )
          yield* step("type", () => page.locator("#answer-text").fill("Ada"))
          yield* step("send", () => page.locator("#answer-send").click())
          yield* step("answered", () => page.getByText("Answered.").waitFor({ timeout: 30_000 }))
          yield* step("name completes", () =>
            page.locator('[data-task="name"][data-status="completed"]').waitFor({ timeout: 30_000 })
          )
          // The session goes on: greet runs with the answer, then everything completes.
          yield* step("greet runs", () =>
            page.locator('[data-task="greet"][data-status="running"]').waitFor({ timeout: 60_000 })
          )
          yield* step("report completes", () =>
            page.locator('[data-task="report"][data-status="completed"]').waitFor({ timeout: 60_000 })
          )
          yield* step("session completes", () =>
            page.locator('.title .pill[data-status="completed: all_done"]').waitFor({ timeout: 30_000 })
          )
          expect(yield* step("no question left", () => page.locator("#question").count())).toBe(0)

          // A tool run's output, collapsed until opened.
          yield* step("select greet", () => page.locator('[data-task="greet"]').click())
          const run = page.locator('#timeline li.tool-run[data-exit="exit 0"]').first()
          yield* step("tool run", () => run.waitFor({ timeout: 30_000 }))
          const output = run.locator("details pre.out")
          expect(yield* step("collapsed", () => output.isVisible())).toBe(false)
          yield* step("open output", () => run.locator("details summary").click())
          expect(yield* step("visible", () => output.isVisible())).toBe(true)
          expect(yield* step("output text", () => output.textContent())).toContain("Hello, Ada!")
          // The report task's failing command shows its exit code.
          yield* step("select report", () => page.locator('[data-task="report"]').click())
          yield* step("exit 3", () =>
            page.locator('#timeline li.tool-run[data-exit="exit 3"]').waitFor({ timeout: 10_000 })
          )
          yield* step("back to greet", () => page.locator('[data-task="greet"]').click())
          yield* step("reopen output", () =>
            page.locator('#timeline li.tool-run[data-exit="exit 0"] details summary').first().click()
          )

          expect(yield* step("same document", () => page.evaluate("window.__sameDocument === true"))).toBe(
            true
          )
          const summary = yield* Fiber.join(driver)
          expect(summary.outcome).toBe("all_done")
          expect(consoleErrors).toEqual([])

          yield* step("screenshot", () =>
            page.screenshot({ path: join(out, "ui-session.png"), fullPage: true })
          )
          expect(existsSync(join(out, "ui-session.png"))).toBe(true)
          // The list, with the finished session's row updated live.
          yield* step("back to the list", () => page.locator('a[href="#/"]').first().click())
          yield* step("row completed", () =>
            page
              .locator(`[data-session-row="${sessionId}"] .pill[data-status="completed: all_done"]`)
              .waitFor({ timeout: 30_000 })
          )
          yield* step("list screenshot", () => page.screenshot({ path: join(out, "ui-sessions.png") }))
        })
      ).pipe(
        Effect.provide(
          Layer.mergeAll(
            ScriptedLanguageModel.layer(Array.from({ length: 40 }, () => pacedModel)),
            Validator.layerAcceptAll,
            Sandbox.layerLocal(mkdtempSync(join(tmpdir(), "dabgent-ui-work-")))
          ).pipe(Layer.provideMerge(SqliteEventStore.layer({ filename: tempSqliteFile() })))
        )
      ),
    180_000
  )

  it.live(
    "shows a thread session as one timeline, with the validator's verdicts",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const sessionId = "t-validated"
          const store = yield* EventStore
          yield* EventLog.make(store, EventCodec.make(SessionEvents)).append(SessionEvents, {
            streamId: "dabgent",
            aggregateId: sessionAggregateId(sessionId),
            events: [
              new SessionStarted({
                mode: "thread",
                input: "create hello.txt",
                model: "scripted:test",
                workdir: "/tmp/hello",
                sandbox: "local",
                allowNetwork: false,
                validate: "test -f hello.txt",
                maxSteps: 6
              })
            ]
          })
          yield* startThread("create hello.txt", { sessionId, maxSteps: 6 })
          const summary = yield* runSession(sessionId)
          expect(summary.status).toBe("Done")

          const { url } = yield* UiServer.start({
            port: 0,
            host: "127.0.0.1",
            allowAnswer: false,
            heartbeat: "5 seconds",
            streamId: "dabgent",
            storeLabel: "test-store.db",
            version: "test"
          })
          const { context } = yield* launch
          const page = yield* step("open", () => context.newPage())
          yield* step("load", () => page.goto(`${url}#/s/${sessionId}`))
          yield* step("done", () => page.locator('#timeline li[data-type="thread.ThreadDone"]').waitFor())
          expect(yield* step("no graph", () => page.locator("svg.graph").count())).toBe(0)
          expect(yield* step("no placeholder", () => page.getByText("Nothing has happened").count())).toBe(0)
          expect(
            yield* step("turns", () => page.locator('#timeline li[data-type="thread.LlmCompleted"]').count())
          ).toBe(3)
          const rejected = page.locator('#timeline li.tool-run[data-exit="rejected"]')
          yield* step("open the verdict", () => rejected.locator("details summary").click())
          expect(yield* step("verdict", () => rejected.locator("pre.out").textContent())).toContain(
            "validation failed"
          )
          expect(
            yield* step("accepted", () => page.locator('#timeline li.tool-run[data-exit="accepted"]').count())
          ).toBe(1)
          const out = join(root, "test-results")
          mkdirSync(out, { recursive: true })
          yield* step("screenshot", () =>
            page.screenshot({ path: join(out, "ui-thread.png"), fullPage: true })
          )
        })
      ).pipe(
        Effect.provide(
          Layer.mergeAll(
            ScriptedLanguageModel.layer([
              {
                text: "Finished, I think.",
                toolCalls: [{ name: "done", params: { summary: "nothing to do" } }]
              },
              {
                text: "The validator wants hello.txt.",
                toolCalls: [{ name: "write_file", params: { path: "hello.txt", content: "hello\n" } }],
                usage: { inputTokens: 90, outputTokens: 20 }
              },
              {
                toolCalls: [{ name: "done", params: { summary: "hello.txt written" } }],
                usage: { inputTokens: 120, outputTokens: 10 }
              }
            ]),
            Validator.layerCommand("test -f hello.txt")
          ).pipe(
            Layer.provideMerge(Sandbox.layerLocal(mkdtempSync(join(tmpdir(), "dabgent-ui-thread-")))),
            Layer.provideMerge(SqliteEventStore.layer({ filename: tempSqliteFile() }))
          )
        )
      ),
    120_000
  )
})
