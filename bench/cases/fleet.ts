/**
 * Fleet: sessions per minute with 1, 2 and 3 `dabgent worker` processes on one Postgres.
 *
 * Each round uses a database of its own, starts the workers (`--max-sessions 10` each, so a
 * fleet's capacity grows with its workers as it does across machines), waits until they are
 * ready (start-up is not measured), then submits the sessions the way `--detach` does and
 * times until every session has ended. The model is a local fake OpenAI-compatible server: each
 * session runs three `bash` calls of 0.2 s, then `done`. Baseline: one worker.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createRequire } from "node:module"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import pg from "pg"
import * as RunThread from "../../src/cli/RunThread.js"
import * as StoreLocation from "../../src/cli/StoreLocation.js"
import { newSessionId } from "../../src/DabgentAgent.js"
import * as FakeChat from "../../test/support/fakeChatServer.js"
import { noDatabase, skipped, type BenchCase, type Result } from "../lib/common.js"

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href
const stepsPerSession = 3

const model = (request: FakeChat.RecordedRequest): FakeChat.FakeResponse => {
  const body = request.body as { readonly messages?: ReadonlyArray<{ readonly role?: string }> }
  const step = (body.messages ?? []).filter((m) => m.role === "tool").length + 1
  return step > stepsPerSession
    ? { toolCalls: [{ name: "done", params: { summary: "ok" } }] }
    : { toolCalls: [{ name: "bash", params: { command: "sleep 0.2" } }] }
}

const query = async (url: string, text: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<{ n: number }>(text)).rows
  } finally {
    await client.end()
  }
}

/** Runs without the `--detach` lines (a session id and a hint for each submission). */
const quiet = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Console.consoleWith((console) =>
    Effect.withConsole(effect, { ...console, log: () => Effect.void, error: () => Effect.void })
  )

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const startWorker = (url: string, name: string, cwd: string) =>
  new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", tsx, main, "worker", "--store", url, "--id", name, "--max-sessions", "10"],
      { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } }
    )
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (/ ready: /.test(out)) resolve(child)
    })
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()))
    child.on("exit", (code) => reject(new Error(`worker ${name} exited with ${code}: ${err}`)))
  })

/** Sessions per minute for one fleet size. */
const round = async (
  base: string,
  workers: number,
  sessions: number,
  server: FakeChat.FakeChatServer,
  log: (message: string) => void
): Promise<number> => {
  const database = `dabgent_bench_fleet_${randomBytes(4).toString("hex")}`
  await query(base, `CREATE DATABASE ${database}`)
  const location = new URL(base)
  location.pathname = `/${database}`
  const url = location.toString()
  const workdir = mkdtempSync(join(tmpdir(), "dabgent-bench-fleet-"))
  const children: Array<ChildProcess> = []
  try {
    // One after the other: the first creates the tables.
    for (let i = 0; i < workers; i++) children.push(await startWorker(url, `bench-${i + 1}`, workdir))
    const settings = {
      store: StoreLocation.parse(url),
      model: Option.some("openai-compat:m"),
      baseUrl: Option.some(server.url),
      workdir,
      sandbox: Option.some("local" as const),
      allowNetwork: false,
      validate: Option.none<string>(),
      maxSteps: 20,
      json: true,
      input: "none" as const,
      detach: true
    }
    const started = performance.now()
    await Effect.runPromise(
      Effect.forEach(
        Array.from({ length: sessions }, () => newSessionId()),
        (sessionId) => RunThread.run({ ...settings, sessionId, start: { _tag: "New", prompt: "work" } }),
        { concurrency: 4 }
      ).pipe(quiet)
    )
    for (;;) {
      const [row] = await query(
        url,
        `SELECT count(*)::int AS n FROM dabgent_events
         WHERE type IN ('thread.ThreadDone', 'thread.ThreadFailed') AND position('/' in aggregate_id) = 0`
      )
      if ((row?.n ?? 0) >= sessions) break
      if (performance.now() - started > 600_000) throw new Error("the sessions did not finish in 10 minutes")
      await sleep(100)
    }
    const minutes = (performance.now() - started) / 60_000
    const rate = sessions / minutes
    log(
      `${workers} worker(s): ${sessions} sessions in ${(minutes * 60).toFixed(1)} s = ${rate.toFixed(1)}/min`
    )
    return rate
  } finally {
    for (const child of children) child.kill("SIGTERM")
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) =>
            child.exitCode !== null || child.signalCode !== null
              ? resolve()
              : child.once("exit", () => resolve())
          )
      )
    )
    await query(base, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    rmSync(workdir, { recursive: true, force: true })
  }
}

export const fleet: BenchCase = {
  name: "fleet",
  description: "sessions per minute with 1, 2 and 3 worker processes on one Postgres (fake model)",
  run: async ({ quick, databaseUrl, log }) => {
    if (databaseUrl === undefined) return [skipped("fleet sessions per minute", "sessions/min", noDatabase)]
    const sessions = quick ? 12 : 30
    const server = await FakeChat.start({ handler: model })
    try {
      const rates: Array<number> = []
      for (const workers of [1, 2, 3]) rates.push(await round(databaseUrl, workers, sessions, server, log))
      const [one = Number.NaN] = rates
      return rates.map((rate, i): Result => ({
        name: `fleet ${i + 1} worker${i === 0 ? "" : "s"}, ${sessions} sessions`,
        value: rate,
        unit: "sessions/min",
        ...(i === 0 ? {} : { baseline: one, ratio: rate / one }),
        note:
          i === 0
            ? `each session: ${stepsPerSession} bash calls of 0.2 s and done; --max-sessions 10 per worker`
            : "baseline: 1 worker"
      }))
    } finally {
      await server.close()
    }
  }
}
