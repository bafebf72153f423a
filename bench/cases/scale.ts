/**
 * Scale: 1,000 threads run concurrently in one process with `simpleExecute` (each: `ls`, `ls`,
 * `done` from one shared scripted model that answers from the thread's own prompt), on one
 * SQLite store. Wall time, and peak RSS sampled every 20 ms. Baseline for RSS: the process
 * before the threads start.
 *
 * It runs in a child process (a fresh heap). Each thread gets its own stream. The full run also
 * runs 200 threads on the default shared stream (all sessions' subscribers on one stream, served
 * by the store's one reader per stream), and the 1,000 threads again with V8's old space capped
 * at 768 MB, which shows how much of the default peak is live data and how much is garbage V8
 * has not collected yet.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { spawn } from "node:child_process"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { DabgentAgent } from "../../src/DabgentAgent.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import * as Validator from "../../src/tools/Validator.js"
import { maxResult, type BenchCase, type Result } from "../lib/common.js"

const mb = (bytes: number) => bytes / (1024 * 1024)
const stepsPerThread = 3

const turn = (request: ScriptedLanguageModel.Request): ScriptedLanguageModel.Reply => {
  const results = request.prompt.content.filter((message) => message.role === "tool").length
  return results < stepsPerThread - 1
    ? { toolCalls: [{ name: "ls", params: {} }], usage: { inputTokens: 10, outputTokens: 5 } }
    : { toolCalls: [{ name: "done", params: { summary: "listed" } }] }
}

const runThreads = async (
  threads: number,
  sharedStream: boolean,
  log: (message: string) => void
): Promise<{ readonly wall: number; readonly peak: number; readonly before: number }> => {
  const dir = mkdtempSync(join(tmpdir(), "dabgent-bench-"))
  const work = join(dir, "work")
  mkdirSync(work)
  writeFileSync(join(work, "README.md"), "x\n")
  try {
    const layer = DabgentAgent.layer.pipe(
      Layer.provideMerge(Validator.layerAcceptAll),
      Layer.provideMerge(Sandbox.layerLocal(work)),
      Layer.provideMerge(
        ScriptedLanguageModel.layer(Array.from({ length: threads * stepsPerThread + 10 }, () => turn))
      ),
      Layer.provideMerge(SqliteEventStore.layer({ filename: join(dir, "events.db") }))
    )
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 20)
    const start = performance.now()
    let done = 0
    try {
      const summaries = await Effect.runPromise(
        Effect.provide(
          Effect.flatMap(DabgentAgent, (agent) =>
            Effect.forEach(
              Array.from({ length: threads }, (_, i) => i),
              (i) =>
                Effect.tap(
                  agent.simpleExecute(`thread ${i}: list the files`, {
                    maxSteps: 10,
                    ...(sharedStream ? {} : { streamId: `t${i}` })
                  }),
                  () =>
                    Effect.sync(() => {
                      done++
                      if (done % Math.max(1, Math.floor(threads / 4)) === 0)
                        log(`${done} threads done after ${((performance.now() - start) / 1000).toFixed(1)} s`)
                    })
                ),
              { concurrency: "unbounded" }
            )
          ),
          layer
        )
      )
      const failed = summaries.filter((s) => s.status !== "Done")
      if (failed.length > 0) throw new Error(`${failed.length} threads did not finish: ${failed[0]?.message}`)
    } finally {
      clearInterval(sampler)
    }
    peak = Math.max(peak, process.memoryUsage().rss)
    const wall = (performance.now() - start) / 1000
    log(
      `${threads} threads, ${sharedStream ? "shared stream" : "a stream each"}: wall ${wall.toFixed(1)} s, ` +
        `peak rss ${mb(peak).toFixed(0)} MB (before ${mb(before).toFixed(0)} MB)`
    )
    return { wall, peak: mb(peak), before: mb(before) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Runs `runThreads` in a fresh Node process, so the RSS is that of the threads alone and not of
 * the cases that ran before in the runner's process.
 */
const inChild = (
  threads: number,
  sharedStream: boolean,
  log: (message: string) => void,
  nodeFlags: ReadonlyArray<string> = []
) =>
  new Promise<{ readonly wall: number; readonly peak: number; readonly before: number }>(
    (resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          ...nodeFlags,
          "--import",
          "tsx",
          fileURLToPath(import.meta.url),
          childFlag,
          String(threads),
          String(sharedStream)
        ],
        { stdio: ["ignore", "pipe", "inherit"] }
      )
      let output = ""
      child.stdout.setEncoding("utf8")
      child.stdout.on("data", (chunk: string) => {
        output += chunk
        for (;;) {
          const newline = output.indexOf("\n")
          if (newline < 0) break
          const line = output.slice(0, newline)
          output = output.slice(newline + 1)
          if (line.startsWith("{"))
            resolve(JSON.parse(line) as { wall: number; peak: number; before: number })
          else if (line !== "") log(line)
        }
      })
      child.on("error", reject)
      child.on("exit", (code) =>
        code === 0 ? undefined : reject(new Error(`scale child exited with ${code}`))
      )
    }
  )

const childFlag = "--scale-child"

if (process.argv[2] === childFlag) {
  runThreads(Number(process.argv[3]), process.argv[4] === "true", (message) => console.log(message)).then(
    (result) => {
      console.log(JSON.stringify(result))
      process.exit(0)
    },
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    }
  )
}

export const scale: BenchCase = {
  name: "scale",
  description: "1,000 concurrent threads in one process: wall time, peak RSS",
  run: async ({ quick, log }) => {
    const threads = 1000
    const own = await inChild(threads, false, log)
    const out: Array<Result> = [
      maxResult(`scale ${threads} threads peak RSS`, own.peak, "MB", 1024, {
        baseline: own.before,
        strict: true,
        note: "sqlite store, a stream per thread; baseline: RSS of the fresh process before the threads start"
      }),
      { name: `scale ${threads} threads wall time`, value: own.wall, unit: "s", note: "3 steps each" }
    ]
    if (!quick) {
      const capped = await inChild(threads, false, log, ["--max-old-space-size=768"])
      out.push(
        {
          name: `scale ${threads} threads peak RSS, old space capped at 768 MB`,
          value: capped.peak,
          unit: "MB",
          baseline: capped.before,
          note: "diagnostic (not the target row): the same run with node --max-old-space-size=768"
        },
        {
          name: `scale ${threads} threads wall time, old space capped at 768 MB`,
          value: capped.wall,
          unit: "s"
        }
      )
      const shared = await inChild(200, true, log)
      out.push({
        name: "scale shared stream 200 threads wall time",
        value: shared.wall,
        unit: "s",
        note: `all on the default stream, one reader per stream (peak RSS ${shared.peak.toFixed(0)} MB)`
      })
    }
    return out
  }
}
