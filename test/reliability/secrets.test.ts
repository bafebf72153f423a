/**
 * Secrets: with API keys in the environment, run sessions through the real CLI (a working key
 * that the fake server checks, the same with `--json`, a planned session, and a rejected key)
 * and look for the keys everywhere a user or an attacker could: stdout, stderr, every stored
 * event (`dabgent events --all --json`), `dabgent sessions --json`, and the bytes of the SQLite
 * files (the database and its WAL).
 */
import { describe, expect, it } from "vitest"
import * as Schema from "effect/Schema"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli } from "../support/cli.js"
import * as FakeChat from "../support/fakeChatServer.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "dabgent-secrets-"))

const secret = (label: string) => `sk-${label}-${randomBytes(12).toString("hex")}`

/** Every file under `.dabgent/` (the database, its WAL and shared memory), as one buffer. */
const storeBytes = (dir: string): Buffer => {
  const folder = join(dir, ".dabgent")
  if (!existsSync(folder)) return Buffer.alloc(0)
  return Buffer.concat(readdirSync(folder).map((name) => readFileSync(join(folder, name))))
}

const plan = {
  tasks: [
    { id: "a", description: "part a", kind: "tool_call", dependencies: [] },
    { id: "b", description: "then b", kind: "processing", dependencies: ["a"] }
  ]
}

/** The parts of a chat-completions request the fake model looks at. */
const Body = Schema.Struct({
  tools: Schema.optional(Schema.Array(Schema.Unknown)),
  messages: Schema.Array(Schema.Struct({ role: Schema.String }))
})

/** Plans `plan`; a thread or task runs `env` in bash (printing what the sandbox sees), then done. */
const model = (request: FakeChat.RecordedRequest): FakeChat.FakeResponse => {
  const body = Schema.decodeUnknownSync(Body)(request.body)
  if (body.tools === undefined || body.tools.length === 0) return { text: JSON.stringify(plan) }
  if (body.messages.some((m) => m.role === "tool"))
    return { toolCalls: [{ name: "done", params: { summary: "checked the environment" } }] }
  return { toolCalls: [{ name: "bash", params: { command: "env; echo $DABGENT_API_KEY $OPENAI_API_KEY" } }] }
}

describe("API keys never leave the environment", () => {
  it("a session with a working key, in text, --json and planned: no key in output, events, sessions or the file", async () => {
    const dir = tempDir()
    const apiKey = secret("dabgent")
    const openAiKey = secret("openai")
    const anthropicKey = secret("anthropic")
    const env = { DABGENT_API_KEY: apiKey, OPENAI_API_KEY: openAiKey, ANTHROPIC_API_KEY: anthropicKey }
    const server = await FakeChat.start({ apiKey, handler: model })
    try {
      const base = ["--model", "openai-compat:m", "--base-url", server.url, "--sandbox", "local"]
      const runs = [
        await runCli(["thread", "show the environment", ...base], { cwd: dir, env }),
        await runCli(["thread", "show the environment", ...base, "--json"], { cwd: dir, env }),
        await runCli(["coordinate", "a, then b", ...base], { cwd: dir, env })
      ]
      expect(runs.map((r) => r.code)).toEqual([0, 0, 0])
      // The key was used: the server accepted every request only with it.
      expect(server.requests.length).toBeGreaterThanOrEqual(7)
      expect(server.requests.every((r) => r.headers["authorization"] === `Bearer ${apiKey}`)).toBe(true)

      const events = await runCli(["events", "--all", "--json"], { cwd: dir, env })
      const sessions = await runCli(["sessions", "--json"], { cwd: dir, env })
      expect([events.code, sessions.code]).toEqual([0, 0])
      // The tool ran `env` and its output is stored: proof the check looks where a key would land.
      expect(events.stdout).toContain("PATH=")
      const everything = [
        ...runs.flatMap((r) => [r.stdout, r.stderr]),
        events.stdout,
        events.stderr,
        sessions.stdout,
        sessions.stderr,
        storeBytes(dir).toString("latin1")
      ].join("\n")
      for (const key of [apiKey, openAiKey, anthropicKey]) expect(everything).not.toContain(key)
      // Nor any recognisable part of it.
      expect(everything).not.toContain(apiKey.slice(-16))
    } finally {
      await server.close()
    }
  }, 120_000)

  it("a rejected key: the failure names the variable, never the key, in output, events or the file", async () => {
    const dir = tempDir()
    const apiKey = secret("rejected")
    const server = await FakeChat.start({ apiKey: secret("server"), handler: model })
    try {
      const base = ["--model", "openai-compat:m", "--base-url", server.url, "--sandbox", "local"]
      const text = await runCli(["thread", "hi", ...base], { cwd: dir, env: { DABGENT_API_KEY: apiKey } })
      const json = await runCli(["thread", "hi", ...base, "--json"], {
        cwd: dir,
        env: { DABGENT_API_KEY: apiKey }
      })
      expect([text.code, json.code]).toEqual([1, 1])
      expect(text.stdout + text.stderr).toContain("DABGENT_API_KEY")
      // The key did go to the server (so it was in the process), and came back nowhere.
      expect(server.requests.some((r) => r.headers["authorization"] === `Bearer ${apiKey}`)).toBe(true)
      const events = await runCli(["events", "--all", "--json"], { cwd: dir })
      expect(events.stdout).toContain("thread.ThreadFailed")
      const everything = [
        text.stdout,
        text.stderr,
        json.stdout,
        json.stderr,
        events.stdout,
        events.stderr,
        storeBytes(dir).toString("latin1")
      ].join("\n")
      expect(everything).not.toContain(apiKey)
      expect(everything).not.toContain(apiKey.slice(-16))
    } finally {
      await server.close()
    }
  }, 90_000)
})
