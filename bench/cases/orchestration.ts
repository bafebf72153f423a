/**
 * Orchestration overhead per agent step: one real `DabgentAgent` thread, a scripted model that
 * answers at once (500 `ls` turns, then `done`) and the local sandbox (`ls` there is a file
 * listing in-process, not a process), with the validator accepting everything. A step is the
 * time between two consecutive model turns: the LlmCompleted append, the tool worker running
 * `ls`, the ToolStarted / ToolCompleted appends, and the LLM worker building the next prompt.
 * Baseline: the same session on the memory store (the cost of everything but the store).
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { DabgentAgent } from "../../src/DabgentAgent.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { EventStore, layerMemory, type StoreError } from "../../src/store/index.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import * as Validator from "../../src/tools/Validator.js"
import {
  maxResult,
  noDatabase,
  percentile,
  skipped,
  sortedCopy,
  type BenchCase,
  type Result
} from "../lib/common.js"

/** Runs one session of `steps` `ls` turns; returns the per-step times in ms. */
const session = async (
  store: Layer.Layer<EventStore, StoreError>,
  steps: number,
  streamId: string
): Promise<Array<number>> => {
  const dir = mkdtempSync(join(tmpdir(), "dabgent-bench-work-"))
  for (const name of ["README.md", "package.json", "index.ts"]) writeFileSync(join(dir, name), "x\n")
  const stamps: Array<number> = []
  const turn = (): ScriptedLanguageModel.Reply => {
    stamps.push(performance.now())
    return stamps.length <= steps
      ? { toolCalls: [{ name: "ls", params: {} }], usage: { inputTokens: 10, outputTokens: 5 } }
      : { toolCalls: [{ name: "done", params: { summary: "listed" } }] }
  }
  const layer = DabgentAgent.layer.pipe(
    Layer.provideMerge(Validator.layerAcceptAll),
    Layer.provideMerge(Sandbox.layerLocal(dir)),
    Layer.provideMerge(ScriptedLanguageModel.layer(Array.from({ length: steps + 1 }, () => turn))),
    Layer.provideMerge(store)
  )
  try {
    const summary = await Effect.runPromise(
      Effect.provide(
        Effect.flatMap(DabgentAgent, (agent) =>
          agent.simpleExecute("list the files, again and again", { maxSteps: steps + 5, streamId })
        ),
        layer
      )
    )
    if (summary.status !== "Done") throw new Error(`the session ended ${summary.status}: ${summary.message}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return stamps.slice(1).map((t, i) => t - (stamps[i] ?? t))
}

export const orchestration: BenchCase = {
  name: "orchestration",
  description: "time per agent step of a 500-step scripted session (sqlite, postgres)",
  run: async ({ quick, databaseUrl, runId, log }) => {
    const steps = quick ? 200 : 500
    const out: Array<Result> = []
    const summarize = (label: string, times: ReadonlyArray<number>) => {
      const sorted = sortedCopy(times)
      log(
        `${label}: p50 ${percentile(sorted, 50).toFixed(3)} ms, p90 ${percentile(sorted, 90).toFixed(3)} ms, ` +
          `p99 ${percentile(sorted, 99).toFixed(3)} ms, first 50 p50 ${percentile(sortedCopy(times.slice(0, 50)), 50).toFixed(3)} ms, ` +
          `last 50 p50 ${percentile(sortedCopy(times.slice(-50)), 50).toFixed(3)} ms`
      )
      return percentile(sorted, 50)
    }
    // Warm-up: a short session loads and JIT-compiles every module on the path.
    await session(layerMemory, 50, "warmup")
    const memory = summarize("memory", await session(layerMemory, steps, "bench"))
    const dir = mkdtempSync(join(tmpdir(), "dabgent-bench-"))
    try {
      const sqlite = summarize(
        "sqlite",
        await session(SqliteEventStore.layer({ filename: join(dir, "events.db") }), steps, "bench")
      )
      out.push(
        maxResult(`orchestration sqlite ${steps} steps, p50 per step`, sqlite, "ms", 2, {
          baseline: memory,
          strict: true,
          note: "baseline: the same session on the memory store"
        })
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    if (databaseUrl === undefined) {
      out.push(skipped(`orchestration pg ${steps} steps, p50 per step`, "ms", noDatabase, "< 5 ms"))
      return out
    }
    const streamId = `${runId}-orch`
    try {
      const times = await session(
        PgEventStore.layer({ url: Redacted.make(databaseUrl), maxConnections: 4 }),
        steps,
        streamId
      )
      out.push(
        maxResult(`orchestration pg ${steps} steps, p50 per step`, summarize("pg", times), "ms", 5, {
          baseline: memory,
          strict: true
        })
      )
    } finally {
      const admin = new pg.Client({ connectionString: databaseUrl })
      await admin.connect()
      await admin.query(`DELETE FROM dabgent_events WHERE stream_id = $1`, [streamId])
      await admin.query(`DELETE FROM dabgent_streams WHERE stream_id = $1`, [streamId])
      await admin.end()
    }
    return out
  }
}
