/**
 * The fleet scenario of issue 8, shared by the loopback and the network-namespace runs: three
 * `dabgent worker` processes on one Postgres, thirty sessions submitted with `--detach` (27
 * threads, 3 planned sessions), one worker killed with SIGKILL in the middle. Returns what the
 * assertions need; the test file asserts.
 *
 * The fake model scripts every thread to run a few `bash` calls, each appending a line unique to
 * its session, task and step to `marker.txt`, then call `done`: a tool that ran twice shows as
 * a repeated line.
 */
import type { ChildProcess } from "node:child_process"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { newPlanSessionId } from "../../src/coordinator/Planning.js"
import { newSessionId } from "../../src/DabgentAgent.js"
import * as RunPlan from "../../src/cli/RunPlan.js"
import * as RunThread from "../../src/cli/RunThread.js"
import * as StoreLocation from "../../src/cli/StoreLocation.js"
import { collect, startCli } from "../support/cli.js"
import type * as FakeChat from "../support/fakeChatServer.js"

export const sessionsWanted = 30
export const toolSteps = 3
export const taskSteps = 2
export const leaseTtlSeconds = 4
/** Which of the 30 are planned sessions (`coordinate --detach`). */
const planned = new Set([5, 15, 25])
/** Which are submitted through the real CLI (the rest through the same function in this process). */
const viaCli = new Set([0, 1, 5])

const Body = Schema.Struct({
  tools: Schema.optional(Schema.Array(Schema.Unknown)),
  messages: Schema.Array(Schema.Struct({ role: Schema.String, content: Schema.optional(Schema.Unknown) }))
})

const planFor = (job: string) =>
  JSON.stringify({
    tasks: [
      { id: "a", description: `${job} part a`, kind: "tool_call", dependencies: [] },
      { id: "b", description: `${job} part b`, kind: "tool_call", dependencies: [] }
    ]
  })

/** The fake model: a plan for a planner, else bash steps appending `<job>[:<task>]:<step>`, then done. */
export const model = (request: FakeChat.RecordedRequest): FakeChat.FakeResponse => {
  const body = Schema.decodeUnknownSync(Body)(request.body)
  const text = JSON.stringify(body.messages)
  const job = /job-\d+/.exec(text)?.[0] ?? "job-unknown"
  if (body.tools === undefined || body.tools.length === 0) return { text: planFor(job) }
  const task = /Your task \(([^,]+),/.exec(text)?.[1]
  const steps = task === undefined ? toolSteps : taskSteps
  const step = body.messages.filter((m) => m.role === "tool").length + 1
  if (step > steps) return { toolCalls: [{ name: "done", params: { summary: `did ${job}` } }] }
  const tag = task === undefined ? `${job}:${step}` : `${job}:${task}:${step}`
  return { toolCalls: [{ name: "bash", params: { command: `echo ${tag} >> marker.txt; sleep 0.3` } }] }
}

export interface Line {
  readonly at: number
  readonly text: string
}

export interface WorkerProcess {
  readonly name: string
  readonly child: ChildProcess
  readonly lines: Array<Line>
  readonly stderr: () => string
}

/** Follows a worker's stdout line by line, with the time each line arrived. */
export const track = (name: string, child: ChildProcess): WorkerProcess => {
  const lines: Array<Line> = []
  let partial = ""
  let stderr = ""
  child.stdout?.on("data", (chunk: Buffer) => {
    partial += chunk.toString()
    const parts = partial.split("\n")
    partial = parts.pop() ?? ""
    const at = Date.now()
    for (const text of parts) if (text !== "") lines.push({ at, text })
  })
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  return { name, child, lines, stderr: () => stderr }
}

const sessionOfLine = (text: string, verb: string) =>
  new RegExp(`^\\S+ ${verb} (\\S+?)[: ]`).exec(`${text} `)?.[1]

/** The sessions a worker holds according to its own lines (claimed and not released or lost). */
export const active = (worker: WorkerProcess): Set<string> => {
  const held = new Set<string>()
  for (const { text } of worker.lines) {
    const claimed = sessionOfLine(text, "claimed")
    if (claimed !== undefined) held.add(claimed)
    const gone = sessionOfLine(text, "released") ?? sessionOfLine(text, "lost")
    if (gone !== undefined) held.delete(gone)
  }
  return held
}

/** When a worker claimed `sessionId` after `since`, if it did. */
export const claimedAt = (worker: WorkerProcess, sessionId: string, since: number): number | undefined =>
  worker.lines.find((line) => line.at >= since && sessionOfLine(line.text, "claimed") === sessionId)?.at

export const claims = (worker: WorkerProcess, before = Number.POSITIVE_INFINITY) =>
  worker.lines.filter((line) => line.at < before && sessionOfLine(line.text, "claimed") !== undefined).length

export const query = async <R extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: ReadonlyArray<unknown> = []
): Promise<Array<R>> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, [...values])).rows
  } finally {
    await client.end()
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const waitFor = async (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}

export interface Submitted {
  readonly sessionId: string
  readonly job: string
  readonly mode: "thread" | "plan"
}

export interface SubmitOptions {
  readonly url: string
  readonly baseUrl: string
  readonly workdir: string
}

const submitOne = async (options: SubmitOptions, index: number): Promise<Submitted> => {
  const job = `job-${String(index).padStart(2, "0")}`
  const mode = planned.has(index) ? "plan" : "thread"
  const prompt = `${job}: append your lines to marker.txt`
  if (viaCli.has(index)) {
    const args = [
      mode === "plan" ? "coordinate" : "thread",
      "--detach",
      ...["--store", options.url, "--model", "openai-compat:m", "--base-url", options.baseUrl],
      ...["--sandbox", "local", "--workdir", options.workdir, "--max-steps", "20"],
      prompt
    ]
    const result = await collect(startCli(args, { cwd: options.workdir }), 90_000)
    const sessionId = result.stdout.trim().split("\n")[0] ?? ""
    if (result.code !== 0 || !/^[tp]-[0-9a-f]{8}$/.test(sessionId))
      throw new Error(`--detach failed (${result.code}): ${result.stdout}\n${result.stderr}`)
    return { sessionId, job, mode }
  }
  // The function `dabgent thread|coordinate --detach` calls, run here (a CLI process per
  // session would spend most of the test starting Node).
  const settings = {
    store: StoreLocation.parse(options.url),
    model: Option.some("openai-compat:m"),
    baseUrl: Option.some(options.baseUrl),
    workdir: options.workdir,
    sandbox: Option.some("local" as const),
    allowNetwork: false,
    validate: Option.none<string>(),
    maxSteps: 20,
    json: true,
    input: "none" as const,
    detach: true
  }
  if (mode === "plan") {
    const sessionId = newPlanSessionId()
    await Effect.runPromise(
      quiet(
        RunPlan.run({ ...settings, sessionId, maxParallel: 2, start: { _tag: "Coordinate", input: prompt } })
      )
    )
    return { sessionId, job, mode }
  }
  const sessionId = newSessionId()
  await Effect.runPromise(quiet(RunThread.run({ ...settings, sessionId, start: { _tag: "New", prompt } })))
  return { sessionId, job, mode }
}

/** Without the lines `--detach` prints for each session (the ids are known here). */
const quiet = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Console.consoleWith((console) =>
    Effect.withConsole(effect, { ...console, log: () => Effect.void, error: () => Effect.void })
  )

const indices = Array.from({ length: sessionsWanted }, (_, i) => i)

/** Three sessions through the real `dabgent thread|coordinate --detach` (started with the workers). */
export const submitViaCli = (options: SubmitOptions): Promise<ReadonlyArray<Submitted>> =>
  Promise.all(indices.filter((i) => viaCli.has(i)).map((i) => submitOne(options, i)))

/** The other 27, through the same function in this process. */
export const submitInProcess = (options: SubmitOptions): Promise<ReadonlyArray<Submitted>> =>
  Effect.runPromise(
    Effect.forEach(
      indices.filter((i) => !viaCli.has(i)),
      (i) => Effect.promise(() => submitOne(options, i)),
      { concurrency: 4 }
    )
  )

/** Sessions whose thread (or planning) has ended, from the log. */
export const endedSessions = async (url: string): Promise<Map<string, string>> => {
  const rows = await query<{ aggregate_id: string; type: string; outcome: string | null }>(
    url,
    `SELECT aggregate_id, type, data->>'outcome' AS outcome FROM dabgent_events
     WHERE type IN ('thread.ThreadDone', 'thread.ThreadFailed', 'planner.PlanningCompleted')
       AND position('/' in aggregate_id) = 0`
  )
  return new Map(rows.map((row) => [row.aggregate_id, row.outcome ?? row.type]))
}

export const markerLines = (workdir: string) => {
  const file = join(workdir, "marker.txt")
  return existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line !== "")
    : []
}

/** What the log says about duplicates: aggregates whose versions are not 1..n, calls recorded twice. */
export const logDamage = async (url: string) => {
  const gaps = await query<{ aggregate_id: string }>(
    url,
    `SELECT aggregate_id FROM dabgent_events GROUP BY aggregate_id
     HAVING count(*) <> max(version) OR count(DISTINCT version) <> count(*) OR min(version) <> 1`
  )
  const twice = await query<{ aggregate_id: string; type: string; call_id: string; n: number }>(
    url,
    `SELECT aggregate_id, type, data->>'callId' AS call_id, count(*)::int AS n FROM dabgent_events
     WHERE type IN ('thread.ToolStarted', 'thread.ToolCompleted')
     GROUP BY 1, 2, 3 HAVING count(*) > 1`
  )
  const sequences = await query<{ n: number; distinct: number }>(
    url,
    `SELECT count(*)::int AS n, count(DISTINCT sequence)::int AS distinct FROM dabgent_events`
  )
  return { gaps, twice, sequences: sequences[0] }
}
