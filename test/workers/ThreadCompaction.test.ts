import * as AiError from "@effect/ai/AiError"
import type * as Prompt from "@effect/ai/Prompt"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DabgentAgent } from "../../src/DabgentAgent.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { EventStore } from "../../src/store/index.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import { estimateTokens, ThreadCompaction, type ThreadEvent } from "../../src/thread/index.js"
import * as Validator from "../../src/tools/Validator.js"
import * as LlmWorker from "../../src/workers/LlmWorker.js"
import { threadLog } from "../../src/workers/ThreadSource.js"

const budget = 2_000
const steps = 30

/** A working directory with enough long file names that `ls` prints about 1,500 characters. */
const workDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "dabgent-compaction-"))
  for (let i = 0; i < 40; i++) writeFileSync(join(dir, `a-file-with-a-rather-long-name-${i}.txt`), "")
  return dir
}

const agentLayer = (dir: string, turns: ReadonlyArray<ScriptedLanguageModel.Turn>) =>
  DabgentAgent.layer.pipe(
    Layer.provideMerge(ThreadCompaction.layer({ budget, keepRecent: 2 })),
    Layer.provideMerge(Validator.layer(undefined).pipe(Layer.provideMerge(Sandbox.layerLocal(dir)))),
    Layer.provideMerge(ScriptedLanguageModel.layer(turns)),
    Layer.provideMerge(EventStore.layerMemory)
  )

const render = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value))

/** Everything the model reads in a prompt: message texts, tool calls with arguments, results. */
const promptText = (prompt: Prompt.Prompt): string =>
  prompt.content
    .flatMap((message) => {
      if (message.role === "system") return [message.content]
      return message.content.map((part) => {
        switch (part.type) {
          case "text":
            return part.text
          case "tool-call":
            return part.id + part.name + render(part.params)
          case "tool-result":
            return part.id + part.name + render(part.result)
          default:
            return ""
        }
      })
    })
    .join("\n")

const userTexts = (prompt: Prompt.Prompt): ReadonlyArray<string> =>
  prompt.content.flatMap((message) =>
    message.role === "user"
      ? message.content.flatMap((part) => (part.type === "text" ? [part.text] : []))
      : []
  )

const events = (sessionId: string) =>
  Effect.flatMap(EventStore, (store) =>
    Stream.runCollect(threadLog(store).read({ streamId: "dabgent", aggregateId: sessionId })).pipe(
      Effect.map((all): ReadonlyArray<ThreadEvent> => Chunk.toReadonlyArray(all).map((e) => e.event))
    )
  )

/**
 * A model that alternates `ls` and a chatty `bash` for `steps` turns, then calls `done`; asked
 * for a summary (a request without tools), it answers with `summarize`.
 */
const agentScript = (summarize: (index: number) => ScriptedLanguageModel.Turn) => {
  let turn = 0
  let summaries = 0
  const script = (request: ScriptedLanguageModel.Request) => {
    if (request.tools.length === 0) {
      summaries += 1
      const answer = summarize(summaries)
      return typeof answer === "function" ? answer(request) : answer
    }
    turn += 1
    const usage = { inputTokens: 100, outputTokens: 10 }
    if (turn > steps)
      return { toolCalls: [{ name: "done", params: { summary: "listed everything" } }], usage }
    return turn % 2 === 1
      ? { text: `Step ${turn}: list the files.`, toolCalls: [{ name: "ls", params: {} }], usage }
      : {
          text: `Step ${turn}: print a report.`,
          toolCalls: [
            {
              name: "bash",
              params: { command: `for i in $(seq 1 40); do echo "report ${turn} line $i: all fine"; done` }
            }
          ],
          usage
        }
  }
  return Array.from({ length: 200 }, () => script)
}

describe("long threads are compacted", () => {
  it.live(
    `${steps} steps with large outputs stay under a ${budget}-token budget; summaries are recorded and shown`,
    () => {
      const dir = workDir()
      const summaryUsage = { inputTokens: 700, outputTokens: 30 }
      return Effect.gen(function* () {
        const agent = yield* DabgentAgent
        const summary = yield* agent.simpleExecute("Survey the working directory.", { maxSteps: 50 })
        expect(summary.status).toBe("Done")
        expect(summary.steps).toBe(steps + 1)

        const recorded = yield* events(summary.sessionId)
        const compactions = recorded.filter((e) => e._tag === "ThreadCompacted")
        expect(compactions.length).toBeGreaterThan(0)
        for (const c of compactions) {
          expect(c.from).toBe(1)
          expect(c.usage).toEqual(summaryUsage)
        }
        // The thread's usage counts the summary calls too.
        expect(summary.usage).toEqual({
          inputTokens: 100 * (steps + 1) + summaryUsage.inputTokens * compactions.length,
          outputTokens: 10 * (steps + 1) + summaryUsage.outputTokens * compactions.length
        })

        const requests = yield* (yield* ScriptedLanguageModel.ScriptedLanguageModel).requests
        const turns = requests.filter((r) => r.tools.length > 0)
        const summaryRequests = requests.filter((r) => r.tools.length === 0)
        expect(turns.length).toBe(steps + 1)
        expect(summaryRequests.length).toBe(compactions.length)

        // The outputs alone are several budgets' worth, yet every turn's request (messages plus
        // tool definitions) stayed under it.
        const outputs = recorded.flatMap((e) => (e._tag === "ToolCompleted" ? [render(e.result)] : []))
        expect(estimateTokens(outputs.join(""))).toBeGreaterThan(5 * budget)
        const toolTokens = LlmWorker.toolDefinitionTokens(yield* LlmWorker.resolvedToolkit)
        expect(toolTokens).toBeGreaterThan(100)
        const sizes = turns.map((r) => toolTokens + estimateTokens(promptText(r.prompt)))
        expect(Math.max(...sizes)).toBeLessThanOrEqual(budget)

        // A summary request carries the task and the replaced turns, tool output included.
        const firstSummaryRequest = summaryRequests[0]
        expect(firstSummaryRequest).toBeDefined()
        if (firstSummaryRequest === undefined) return
        expect(promptText(firstSummaryRequest.prompt)).toContain("Survey the working directory.")
        expect(promptText(firstSummaryRequest.prompt)).toContain("a-file-with-a-rather-long-name-0.txt")

        // Later turns see the latest summary in place of the old turns, after the task prompt.
        const last = turns[turns.length - 1]
        expect(last).toBeDefined()
        if (last === undefined) return
        const texts = userTexts(last.prompt)
        expect(texts[0]).toBe("Survey the working directory.")
        expect(texts[1]).toMatch(/^Summary of earlier work/)
        expect(texts[1]).toContain(`SUMMARY #${compactions.length}`)
        for (let i = 1; i <= compactions.length; i++) {
          expect(turns.some((r) => userTexts(r.prompt).some((t) => t.includes(`SUMMARY #${i}:`)))).toBe(true)
        }
      }).pipe(
        Effect.provide(
          agentLayer(
            dir,
            agentScript((i) => ({
              text: `SUMMARY #${i}: listed the directory and printed reports.`,
              usage: summaryUsage
            }))
          )
        )
      )
    },
    10_000
  )

  it.live("a failed summary call falls back to a truncated transcript; the thread goes on", () => {
    const dir = workDir()
    const warnings: Array<string> = []
    const captureLogs = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(render(message))
      })
    )
    return Effect.gen(function* () {
      const summary = yield* (yield* DabgentAgent).simpleExecute("Survey the working directory.", {
        maxSteps: 50
      })
      expect(summary.status).toBe("Done")
      const compactions = (yield* events(summary.sessionId)).filter((e) => e._tag === "ThreadCompacted")
      expect(compactions.length).toBeGreaterThan(0)
      for (const c of compactions) {
        expect(c.summary).toMatch(/^\(No model summary; the earlier conversation, cut to fit\.\)/)
        expect(estimateTokens(c.summary)).toBeLessThanOrEqual(budget / 8)
        expect(c.usage).toEqual({ inputTokens: 0, outputTokens: 0 })
      }
      const requests = yield* (yield* ScriptedLanguageModel.ScriptedLanguageModel).requests
      const sizes = requests
        .filter((r) => r.tools.length > 0)
        .map((r) => estimateTokens(promptText(r.prompt)))
      expect(Math.max(...sizes)).toBeLessThanOrEqual(budget)
      expect(warnings.length).toBe(compactions.length)
      expect(warnings[0]).toContain("compaction summary failed")
      expect(warnings[0]).toContain("provider down")
    }).pipe(
      Effect.provide(captureLogs),
      Effect.provide(
        agentLayer(
          dir,
          agentScript(
            () => () =>
              Effect.fail(
                new AiError.UnknownError({
                  module: "test",
                  method: "generateText",
                  description: "provider down"
                })
              )
          )
        )
      )
    )
  })
})
