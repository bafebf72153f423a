/**
 * The agent asks the user, through the real `dabgent` command line (a child process, a fake
 * OpenAI-compatible server, a SQLite store): without a terminal the run stops with exit code 3
 * and says how to answer; `dabgent answer` and `dabgent resume` finish it. With `--input` the
 * answer is read from piped stdin, and at a terminal (a pseudo-terminal from `script`) it is
 * asked inline.
 */
import { describe, expect, it } from "vitest"
import { spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import * as FakeChat from "../support/fakeChatServer.js"
import { cleanEnv, collect, root, runCli } from "../support/cli.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "dabgent-answer-"))
const main = join(root, "src", "cli", "main.ts")
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href

const question = "Which color should the button be?"

interface ChatBody {
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content?: unknown }>
}

/** ask_user, then `done` with the answer the model got back as the ask_user result. */
const askThenDone: ReadonlyArray<FakeChat.Turn> = [
  { text: "I need a decision.", toolCalls: [{ name: "ask_user", params: { question } }] },
  (request) => {
    const tool = (request.body as ChatBody).messages.find((m) => m.role === "tool")
    const answer = String(tool?.content ?? "none").replace(/"/g, "")
    return { toolCalls: [{ name: "done", params: { summary: `color: ${answer}` } }] }
  }
]

const sessionIdOf = (stderr: string): string => {
  const match = /session (t-[0-9a-f]+)/.exec(stderr)
  if (match?.[1] === undefined) throw new Error(`no session id in:\n${stderr}`)
  return match[1]
}

const threadArgs = (server: FakeChat.FakeChatServer, dir: string, ...extra: ReadonlyArray<string>) => [
  "thread",
  "paint the button",
  "--model",
  "openai-compat:test-model",
  "--base-url",
  server.url,
  "--store",
  join(dir, "events.db"),
  "--sandbox",
  "local",
  ...extra
]

/** Runs the CLI with `stdin` piped in (then closed). */
const runWithStdin = (args: ReadonlyArray<string>, stdin: string, cwd: string) => runCli(args, { cwd, stdin })

const shellQuote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`

describe("dabgent: the agent asks the user (sqlite)", () => {
  it("without a terminal the run stops with exit 3 and prints how to answer; answer and resume finish it", async () => {
    const dir = tempDir()
    const store = join(dir, "events.db")
    const server = await FakeChat.start({ turns: askThenDone, models: ["test-model"] })
    try {
      const waiting = await runCli(threadArgs(server, dir), { cwd: dir })
      expect(waiting.code).toBe(3)
      const sessionId = sessionIdOf(waiting.stderr)
      expect(waiting.stdout).toContain(`? ${question}`)
      expect(waiting.stdout).toContain(`question: ${question}`)
      expect(waiting.stderr).toContain(`dabgent answer ${sessionId} "<your answer>" --store ${store}`)
      expect(waiting.stderr).toContain(`dabgent resume ${sessionId} --store ${store}`)

      const status = await runCli(["sessions", "--json", "--store", store], { cwd: dir })
      expect(JSON.parse(status.stdout.trim())).toMatchObject({ id: sessionId, status: "UserWait" })

      const unknown = await runCli(["answer", "t-nosuch", "blue", "--store", store], { cwd: dir })
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toContain("no session t-nosuch")

      const answered = await runCli(["answer", sessionId, "blue", "--store", store], { cwd: dir })
      expect(answered.stderr).toBe(`question: ${question}\n`)
      expect(answered.code).toBe(0)
      expect(answered.stdout).toBe(`answered; continue with: dabgent resume ${sessionId} --store ${store}\n`)

      const again = await runCli(["answer", sessionId, "red", "--store", store], { cwd: dir })
      expect(again.code).toBe(2)
      expect(again.stderr).toContain(`session ${sessionId} has no open question`)

      const resumed = await runCli(["resume", sessionId, "--store", store], { cwd: dir })
      expect(resumed.stderr).not.toContain("Error")
      expect(resumed.code).toBe(0)
      expect(resumed.stdout).toContain("✔ done: color: blue")
      expect(server.chatBodies().length).toBe(2)
    } finally {
      await server.close()
    }
  }, 180_000)

  it("--no-input stops at the question even with answers piped in", async () => {
    const dir = tempDir()
    const server = await FakeChat.start({ turns: askThenDone, models: ["test-model"] })
    try {
      const result = await runWithStdin(threadArgs(server, dir, "--no-input"), "blue\n", dir)
      expect(result.code).toBe(3)
      expect(result.stderr).toContain("dabgent answer")
      expect(server.chatBodies().length).toBe(1)
    } finally {
      await server.close()
    }
  })

  it("--input reads the answer from piped stdin and the run finishes in one go", async () => {
    const dir = tempDir()
    const server = await FakeChat.start({ turns: askThenDone, models: ["test-model"] })
    try {
      const result = await runWithStdin(threadArgs(server, dir, "--input"), "\nblue\n", dir)
      expect(result.stderr).toContain(`? ${question}`)
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("✔ done: color: blue")
    } finally {
      await server.close()
    }
  })

  it("--input with nothing piped in stops the run waiting (exit 3)", async () => {
    const dir = tempDir()
    const server = await FakeChat.start({ turns: askThenDone, models: ["test-model"] })
    try {
      const result = await runWithStdin(threadArgs(server, dir, "--input"), "", dir)
      expect(result.code).toBe(3)
      expect(result.stderr).toContain("dabgent resume")
    } finally {
      await server.close()
    }
  })

  it("--input and --no-input together are a usage error (exit 2)", async () => {
    const dir = tempDir()
    const result = await runCli(["thread", "x", "--input", "--no-input"], { cwd: dir })
    expect(result.code).toBe(2)
  })

  // `script` (util-linux, on every Debian) gives the CLI a pseudo-terminal; without it this test fails.
  it("at a terminal the question is asked inline and the run goes on", async () => {
    const dir = tempDir()
    const server = await FakeChat.start({ turns: askThenDone, models: ["test-model"] })
    try {
      const command = [process.execPath, "--import", tsx, main, ...threadArgs(server, dir)]
        .map(shellQuote)
        .join(" ")
      // `script` runs the CLI on a pseudo-terminal: its stdin is typed into it, its output is ours.
      const child = spawn("script", ["-qefc", command, "/dev/null"], {
        cwd: dir,
        env: cleanEnv(),
        stdio: ["pipe", "pipe", "pipe"]
      })
      let seen = ""
      let typed = false
      child.stdout.on("data", (chunk: Buffer) => {
        seen += chunk.toString()
        if (!typed && seen.includes("type your answer")) {
          typed = true
          child.stdin.write("blue\n")
        }
      })
      child.on("close", () => child.stdin.end())
      const result = await collect(child)
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(`? ${question}`)
      expect(result.stdout).toContain("↳ answered: blue")
      expect(result.stdout).toContain("✔ done: color: blue")
    } finally {
      await server.close()
    }
  })
})
