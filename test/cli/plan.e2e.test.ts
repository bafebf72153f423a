/**
 * Planning from the command line: `plan`, `coordinate`, `run`, and answering a clarification
 * through `answer` + `resume`, as a child process against a fake model server.
 */
import { describe, expect, inject, it } from "vitest"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as FakeChat from "../support/fakeChatServer.js"
import { collect, runCli, startCli, waitForFile } from "../support/cli.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "dabgent-plan-cli-"))

interface Body {
  readonly tools?: ReadonlyArray<unknown>
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content?: unknown }>
}

const text = (body: Body) => JSON.stringify(body.messages)

/** Plans with `plan`; each task writes `<id>.txt` then calls done (task `fail` never acts). */
const model =
  (plan: unknown) =>
  (request: FakeChat.RecordedRequest): FakeChat.FakeResponse => {
    const body = request.body as Body
    if (body.tools === undefined || body.tools.length === 0) {
      if (/Decide how a coding agent/.test(text(body))) return { text: "plan: several tasks" }
      return { text: "```json\n" + JSON.stringify(plan) + "\n```" }
    }
    const task = /Your task \(([^,]+),/.exec(text(body))?.[1] ?? "x"
    if (task === "fail") return { text: "no" }
    const toolTurns = body.messages.filter((m) => m.role === "tool").length
    if (toolTurns === 0) {
      const answer = (/answered[^:]*: (\w+)/.exec(text(body))?.[1] ?? /Rust/.test(text(body))) ? "Rust" : task
      return { toolCalls: [{ name: "write_file", params: { path: `${task}.txt`, content: answer } }] }
    }
    return { toolCalls: [{ name: "done", params: { summary: `did ${task}` } }] }
  }

const threeTasks = {
  tasks: [
    { id: "a", description: "part a", kind: "tool_call", dependencies: [] },
    { id: "b", description: "part b", kind: "tool_call", dependencies: [] },
    { id: "c", description: "combine", kind: "processing", dependencies: ["a", "b"] }
  ]
}

const sessionOf = (stderr: string) => {
  const id = /session (p-[0-9a-f]+)/.exec(stderr)?.[1]
  if (id === undefined) throw new Error(`no session id in:\n${stderr}`)
  return id
}

const base = (url: string) => ["--model", "openai-compat:m", "--base-url", url, "--sandbox", "local"]

/** Where the log lives in a test: the default SQLite file in the workdir, or the test Postgres. */
const stores: ReadonlyArray<{ readonly name: string; readonly args: () => ReadonlyArray<string> }> = [
  { name: "sqlite", args: () => [] },
  { name: "postgres", args: () => ["--store", inject("databaseUrl")] }
]

describe("dabgent plan / coordinate / run", () => {
  it("plan stores the task graph and writes no thread events; resume executes it", async () => {
    const dir = tempDir()
    const server = await FakeChat.start({ handler: model(threeTasks) })
    try {
      const planned = await runCli(["plan", "build a and b, then combine", ...base(server.url)], { cwd: dir })
      expect(planned.code).toBe(0)
      expect(planned.stdout).toContain("[c] processing")
      const sessionId = sessionOf(planned.stderr)
      const events = await runCli(["events", sessionId, "--json"], { cwd: dir })
      const types = events.stdout
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { type: string }).type)
      expect(types).toContain("planner.TasksPlanned")
      expect(types.filter((t) => t.startsWith("thread."))).toEqual([])
      const resumed = await runCli(["resume", sessionId], { cwd: dir })
      expect(resumed.code).toBe(0)
      expect(resumed.stdout).toContain("planning completed: all_done")
    } finally {
      await server.close()
    }
  })

  it("a failing task skips its dependents and the session exits 1", async () => {
    const dir = tempDir()
    const plan = {
      tasks: [
        { id: "fail", description: "this fails", kind: "tool_call" },
        { id: "after", description: "depends on it", kind: "processing", dependencies: ["fail"] }
      ]
    }
    const server = await FakeChat.start({ handler: model(plan) })
    try {
      const result = await runCli(["coordinate", "doomed", ...base(server.url), "--max-steps", "2"], {
        cwd: dir
      })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain("[after] skipped")
      expect(result.stdout).toContain("some_failed")
    } finally {
      await server.close()
    }
  })

  it("run chooses a plan for multi-step input, records why, and says so", async () => {
    const dir = tempDir()
    const server = await FakeChat.start({ handler: model(threeTasks) })
    try {
      const result = await runCli(["run", "1. part a\n2. part b\n3. combine", ...base(server.url)], {
        cwd: dir
      })
      expect(result.code).toBe(0)
      expect(result.stderr).toContain("route: a plan of tasks")
      const events = await runCli(["events", "--all", "--json"], { cwd: dir })
      expect(events.stdout).toContain("route.RouteChosen")
    } finally {
      await server.close()
    }
  })
})

for (const store of stores) {
  describe(`dabgent coordinate (${store.name})`, () => {
    it(`[${store.name}] coordinate runs the plan and exits 0 with every task's status`, async () => {
      const dir = tempDir()
      const server = await FakeChat.start({ handler: model(threeTasks) })
      try {
        const result = await runCli(
          ["coordinate", "build a and b, then combine", ...base(server.url), ...store.args()],
          {
            cwd: dir
          }
        )
        expect(result.stderr).not.toMatch(/Error|error:/)
        expect(result.code).toBe(0)
        expect(result.stdout).toContain("plan: 3 tasks")
        expect(result.stdout).toContain("planning completed: all_done")
        expect(result.stdout).toMatch(/\[c\] completed/)
        expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a")
      } finally {
        await server.close()
      }
    })

    it(`[${store.name}] a clarification without a terminal exits 3; answer + resume finish it`, async () => {
      const dir = tempDir()
      const plan = {
        tasks: [
          { id: "q", description: "Which language should it be written in?", kind: "clarification" },
          { id: "w", description: "write it", kind: "tool_call", dependencies: ["q"] }
        ]
      }
      const server = await FakeChat.start({ handler: model(plan) })
      try {
        const first = await runCli(["coordinate", "write a tool", ...base(server.url), ...store.args()], {
          cwd: dir
        })
        expect(first.code).toBe(3)
        const sessionId = sessionOf(first.stderr)
        expect(first.stderr).toContain(`dabgent answer ${sessionId}`)
        expect(first.stderr).toContain(`dabgent resume ${sessionId}`)
        const answered = await runCli(["answer", sessionId, "Rust", ...store.args()], { cwd: dir })
        expect(answered.code).toBe(0)
        const resumed = await runCli(["resume", sessionId, ...store.args()], { cwd: dir })
        expect(resumed.code).toBe(0)
        expect(resumed.stdout).toContain("all_done")
        expect(readFileSync(join(dir, "w.txt"), "utf8")).toBe("Rust")
      } finally {
        await server.close()
      }
    })

    it(`[${store.name}] SIGKILL in the middle of a plan, then resume: every task finishes and no tool runs twice`, async () => {
      const dir = tempDir()
      const slow = (request: FakeChat.RecordedRequest): FakeChat.FakeResponse => {
        const body = request.body as Body
        if (body.tools === undefined || body.tools.length === 0) return { text: JSON.stringify(threeTasks) }
        const task = /Your task \(([^,]+),/.exec(text(body))?.[1] ?? "x"
        if (body.messages.some((m) => m.role === "tool")) {
          return { toolCalls: [{ name: "done", params: { summary: `did ${task}` } }] }
        }
        return { toolCalls: [{ name: "bash", params: { command: `echo run >> runs-${task}.txt; sleep 1` } }] }
      }
      const server = await FakeChat.start({ handler: slow })
      try {
        const child = startCli(["coordinate", "a and b, then c", ...base(server.url), ...store.args()], {
          cwd: dir
        })
        const running = collect(child, 60_000)
        expect(await waitForFile(child, join(dir, "runs-a.txt"))).toBe(true)
        child.kill("SIGKILL")
        const killed = await running
        expect(killed.signal).toBe("SIGKILL")
        const sessionId = sessionOf(killed.stderr)
        const resumed = await runCli(["resume", sessionId, ...store.args()], { cwd: dir })
        expect(resumed.code).toBe(0)
        expect(resumed.stdout).toContain("all_done")
        // No tool ran twice. A tool the kill caught after its ToolStarted but before it ran is
        // reported to the model as interrupted and never run, so its marker may be missing.
        expect(readFileSync(join(dir, "runs-a.txt"), "utf8")).toBe("run\n")
        for (const task of ["b", "c"]) {
          const marker = join(dir, `runs-${task}.txt`)
          expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toMatch(/^(run\n)?$/)
        }
        const events = await runCli(["events", sessionId, "--json", ...store.args()], { cwd: dir })
        const stored = events.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as { aggregateId: string; version: number; sequence: number })
        const keys = stored.map((e) => `${e.aggregateId}@${e.version}`)
        expect(new Set(keys).size).toBe(keys.length)
        const sequences = stored.map((e) => e.sequence)
        expect([...sequences].sort((x, y) => x - y)).toEqual(sequences)
      } finally {
        await server.close()
      }
    })
  })
}

describe("dabgent coordinate --input", () => {
  it("answers a clarification task from piped stdin and finishes in one run", async () => {
    const dir = tempDir()
    const plan = {
      tasks: [
        { id: "q", description: "Which language should it be written in?", kind: "clarification" },
        { id: "w", description: "write it", kind: "tool_call", dependencies: ["q"] }
      ]
    }
    const server = await FakeChat.start({ handler: model(plan) })
    try {
      const result = await runCli(["coordinate", "write a tool", ...base(server.url), "--input"], {
        cwd: dir,
        stdin: "Rust\n"
      })
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("all_done")
      expect(readFileSync(join(dir, "w.txt"), "utf8")).toBe("Rust")
    } finally {
      await server.close()
    }
  })
})
