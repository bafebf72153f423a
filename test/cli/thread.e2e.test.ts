/**
 * The `dabgent` command line end to end: a real child process, a fake OpenAI-compatible server,
 * a real store (SQLite file and Postgres).
 */
import { describe, expect, inject, it } from "vitest"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { randomBytes } from "node:crypto"
import * as FakeChat from "../support/fakeChatServer.js"
import { collect, runCli, startCli, waitForFile } from "../support/cli.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "dabgent-cli-"))

const writeRunDone: ReadonlyArray<FakeChat.Turn> = [
  {
    text: "I'll write the script.",
    toolCalls: [{ name: "write_file", params: { path: "hello.sh", content: "echo hello from the agent\n" } }],
    usage: { inputTokens: 120, outputTokens: 30 }
  },
  {
    text: "Run it.",
    toolCalls: [{ name: "bash", params: { command: "bash hello.sh > out.txt && cat out.txt" } }],
    usage: { inputTokens: 180, outputTokens: 12 }
  },
  {
    toolCalls: [{ name: "done", params: { summary: "hello.sh prints a greeting" } }],
    usage: { inputTokens: 220, outputTokens: 10 }
  }
]

const stores = (): ReadonlyArray<{ name: string; store: (dir: string) => string }> => [
  { name: "sqlite", store: (dir) => join(dir, ".dabgent", "events.db") },
  { name: "postgres", store: () => inject("databaseUrl") }
]

const sessionIdOf = (stderr: string): string => {
  const match = /session (t-[0-9a-f]+)/.exec(stderr)
  if (match?.[1] === undefined) throw new Error(`no session id in:\n${stderr}`)
  return match[1]
}

describe("dabgent (no model configured)", () => {
  it("names the three options, exits 2 and writes nothing", async () => {
    const dir = tempDir()
    const result = await runCli(["thread", "write hello.py"], { cwd: dir })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("openai:")
    expect(result.stderr).toContain("anthropic:")
    expect(result.stderr).toContain("openai-compat:")
    expect(existsSync(join(dir, ".dabgent"))).toBe(false)
  })

  it("a bad option is a usage error (exit 2)", async () => {
    const result = await runCli(["thread", "x", "--max-steps", "many"], { cwd: tempDir() })
    expect(result.code).toBe(2)
  })
})

for (const { name, store } of stores()) {
  describe(`dabgent thread (${name})`, () => {
    it(`[${name}] the agent writes a file, runs it with bash and calls done; events and file are there`, async () => {
      const dir = tempDir()
      const server = await FakeChat.start({ turns: writeRunDone, models: ["test-model"] })
      try {
        const result = await runCli(
          [
            "thread",
            "write hello.sh and run it",
            "--model",
            "openai-compat:test-model",
            "--base-url",
            server.url,
            "--store",
            store(dir),
            "--validate",
            "test -s out.txt"
          ],
          { cwd: dir }
        )
        expect(result.stderr).not.toContain("Error")
        expect(result.code).toBe(0)
        expect(result.stdout).toContain("✓ write_file")
        expect(result.stdout).toContain("✓ bash")
        expect(result.stdout).toContain("exit 0")
        expect(result.stdout).toContain("✔ done: hello.sh prints a greeting")
        expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("hello from the agent\n")
        const sessionId = sessionIdOf(result.stderr)

        const events = await runCli(["events", sessionId, "--json", "--store", store(dir)], { cwd: dir })
        expect(events.code).toBe(0)
        const stored = events.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as Record<string, unknown>)
        expect(stored.map((e) => e.type)).toEqual([
          "session.SessionStarted",
          "thread.Prompted",
          "thread.LlmCompleted",
          "thread.ToolStarted",
          "thread.ToolCompleted",
          "thread.LlmCompleted",
          "thread.ToolStarted",
          "thread.ToolCompleted",
          "thread.LlmCompleted",
          "thread.ToolStarted",
          "thread.ToolCompleted",
          "thread.ThreadDone"
        ])
        expect(Object.keys(stored[0] ?? {}).sort()).toEqual(
          ["aggregateId", "createdAt", "data", "metadata", "sequence", "streamId", "type", "version"].sort()
        )
        // The model's second request carried the first tool result back.
        const second = server.chatBodies()[1] as { messages: ReadonlyArray<{ role: string }> }
        expect(second.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"])

        const sessions = await runCli(["sessions", "--json", "--store", store(dir)], { cwd: dir })
        const row = sessions.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .find((r) => r.id === sessionId)
        expect(row).toMatchObject({
          mode: "thread",
          status: "Done",
          steps: 3,
          tokens: 572,
          model: "openai-compat:test-model"
        })
      } finally {
        await server.close()
      }
    })

    it(`[${name}] SIGKILL while a tool runs, then resume: the tool is not executed twice and the thread finishes`, async () => {
      const dir = tempDir()
      const marker = join(dir, "runs.txt")
      const server = await FakeChat.start({
        turns: [
          { toolCalls: [{ name: "bash", params: { command: "echo run >> runs.txt; sleep 20" } }] },
          (request) => {
            const body = request.body as { messages: ReadonlyArray<{ role: string; content?: unknown }> }
            const tool = body.messages.filter((m) => m.role === "tool").at(-1)
            return {
              toolCalls: [
                {
                  name: "done",
                  params: { summary: `after restart the tool said: ${JSON.stringify(tool?.content ?? "")}` }
                }
              ]
            }
          }
        ]
      })
      try {
        const storeArg = store(dir)
        const child = startCli(
          [
            "thread",
            "append to runs.txt",
            "--model",
            "openai-compat:m",
            "--base-url",
            server.url,
            "--store",
            storeArg,
            "--sandbox",
            "local"
          ],
          { cwd: dir }
        )
        const running = collect(child, 60_000)
        expect(await waitForFile(child, marker)).toBe(true)
        child.kill("SIGKILL")
        const killed = await running
        expect(killed.signal).toBe("SIGKILL")
        const sessionId = sessionIdOf(killed.stderr)

        const resumed = await runCli(["resume", sessionId, "--store", storeArg], { cwd: dir })
        expect(resumed.code).toBe(0)
        expect(resumed.stdout).toContain("interrupted")
        expect(resumed.stdout).toContain("✔ done")
        expect(readFileSync(marker, "utf8")).toBe("run\n")
        expect(server.chatBodies().length).toBe(2)

        const again = await runCli(["resume", sessionId, "--store", storeArg], { cwd: dir })
        expect(again.code).toBe(0)
        expect(again.stdout).toContain("already ended: Done")
      } finally {
        await server.close()
      }
    })
  })
}

describe("dabgent thread failures", () => {
  it("a thread that runs out of steps exits 1 with the reason", async () => {
    const dir = tempDir()
    const server = await FakeChat.start({
      handler: () => ({ toolCalls: [{ name: "ls", params: {} }] })
    })
    try {
      const result = await runCli(
        [
          "thread",
          "loop forever",
          "--model",
          "openai-compat:m",
          "--base-url",
          server.url,
          "--max-steps",
          "2",
          "--sandbox",
          "local"
        ],
        { cwd: dir }
      )
      expect(result.code).toBe(1)
      expect(result.stdout).toContain("max steps")
    } finally {
      await server.close()
    }
  })

  it("a wrong API key is a clear failure that never shows the key", async () => {
    const dir = tempDir()
    const secret = `sk-${randomBytes(8).toString("hex")}`
    const server = await FakeChat.start({ apiKey: "the-right-key", turns: [] })
    try {
      const result = await runCli(
        ["thread", "hi", "--model", "openai-compat:m", "--base-url", server.url, "--sandbox", "local"],
        { cwd: dir, env: { DABGENT_API_KEY: secret } }
      )
      expect(result.code).toBe(1)
      expect(result.stdout + result.stderr).toContain("DABGENT_API_KEY")
      expect(result.stdout + result.stderr).not.toContain(secret)
      const events = await runCli(["events", "--all", "--json"], { cwd: dir })
      expect(events.stdout).not.toContain(secret)
    } finally {
      await server.close()
    }
  })
})
