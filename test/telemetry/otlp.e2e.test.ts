/**
 * OpenTelemetry export from the real command line: a child process runs a session against the
 * fake model server with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a local OTLP/HTTP receiver,
 * which then holds the spans (each tied to the session) and the metrics — and no secret.
 */
import { describe, expect, it } from "vitest"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as FakeChat from "../support/fakeChatServer.js"
import { runCli } from "../support/cli.js"
import * as OtlpReceiver from "../support/otlpReceiver.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "dabgent-otel-"))

const apiKey = "sk-test-9f8e7d6c5b4a-do-not-export"
const collectorToken = "collector-token-31415926"

const writeRunDone: ReadonlyArray<FakeChat.Turn> = [
  {
    text: "I'll write the script.",
    toolCalls: [{ name: "write_file", params: { path: "hello.sh", content: "echo hello\n" } }],
    usage: { inputTokens: 120, outputTokens: 30 }
  },
  {
    text: "Run it.",
    toolCalls: [{ name: "bash", params: { command: "bash hello.sh; exit 3" } }],
    usage: { inputTokens: 180, outputTokens: 12 }
  },
  {
    toolCalls: [{ name: "done", params: { summary: "hello.sh prints a greeting" } }],
    usage: { inputTokens: 220, outputTokens: 10 }
  }
]

const sessionIdOf = (stderr: string, prefix: "t" | "p"): string => {
  const match = new RegExp(`session (${prefix}-[0-9a-f]+)`).exec(stderr)
  if (match?.[1] === undefined) throw new Error(`no session id in:\n${stderr}`)
  return match[1]
}

const named = (receiver: OtlpReceiver.OtlpReceiver, name: string) =>
  receiver.spans().filter((span) => span.name === name)

const metricTotal = (
  receiver: OtlpReceiver.OtlpReceiver,
  metric: string,
  where: Record<string, string> = {}
): { readonly value: number; readonly count: number } =>
  receiver
    .points()
    .filter(
      (point) =>
        point.metric === metric &&
        Object.entries(where).every(([key, value]) => point.attributes[key] === value)
    )
    .reduce((total, point) => ({ value: total.value + point.value, count: total.count + point.count }), {
      value: 0,
      count: 0
    })

/** The spans dabgent itself makes (the libraries' own spans, SQL and HTTP, are left out). */
const ours = /^(LlmWorker|ToolWorker|PlannerWorker|llm|EventLog|DabgentAgent|Planning|worker)\./

describe("OpenTelemetry export (dabgent thread)", () => {
  it("spans for worker steps, model calls and tool runs carry the session id; metrics arrive; no secret is sent", async () => {
    const dir = tempDir()
    const receiver = await OtlpReceiver.start()
    const server = await FakeChat.start({ turns: writeRunDone, models: ["test-model"], apiKey })
    try {
      const result = await runCli(
        [
          "thread",
          "write hello.sh and run it",
          "--model",
          "openai-compat:test-model",
          "--base-url",
          server.url,
          "--sandbox",
          "local",
          "--store",
          join(dir, "events.db")
        ],
        {
          cwd: dir,
          env: {
            DABGENT_API_KEY: apiKey,
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            OTEL_SERVICE_NAME: "dabgent-under-test",
            OTEL_EXPORTER_OTLP_HEADERS: `x-collector-token=${collectorToken}`
          }
        }
      )
      expect(result.stderr).not.toContain("Error")
      expect(result.code).toBe(0)
      const sessionId = sessionIdOf(result.stderr, "t")

      // JSON over HTTP, with the configured header on every export.
      const received = receiver.received()
      expect(received.some((r) => r.path === "/v1/traces")).toBe(true)
      expect(received.some((r) => r.path === "/v1/metrics")).toBe(true)
      for (const request of received) {
        expect(request.contentType).toBe("application/json")
        expect(request.headers["x-collector-token"]).toBe(collectorToken)
      }

      // Worker steps, one per action: 3 model turns; 3 tool runs plus the steps that record them.
      const llmSteps = named(receiver, "LlmWorker.step")
      const toolSteps = named(receiver, "ToolWorker.step")
      expect(llmSteps).toHaveLength(3)
      expect(toolSteps.length).toBeGreaterThanOrEqual(3)

      const calls = named(receiver, "llm.generate")
      expect(calls).toHaveLength(3)
      expect(calls.map((span) => span.attributes["gen_ai.usage.input_tokens"])).toEqual([120, 180, 220])
      expect(calls.map((span) => span.attributes["gen_ai.usage.output_tokens"])).toEqual([30, 12, 10])
      expect(calls.every((span) => span.attributes["gen_ai.response.model"] === "test-model")).toBe(true)
      expect(calls.every((span) => span.attributes["dabgent.llm.purpose"] === "turn")).toBe(true)

      const tools = named(receiver, "ToolWorker.tool")
      expect(tools.map((span) => span.attributes["dabgent.tool.name"])).toEqual([
        "write_file",
        "bash",
        "done"
      ])
      const bash = tools.find((span) => span.attributes["dabgent.tool.name"] === "bash")
      expect(bash?.attributes["dabgent.tool.exit_code"]).toBe(3)
      expect(bash?.attributes["dabgent.tool.is_error"]).toBe(true)

      // Every span of ours belongs to the session; the steps also name the aggregate.
      const mine = receiver.spans().filter((span) => ours.test(span.name))
      expect(mine.length).toBeGreaterThan(10)
      for (const span of mine) {
        expect({ name: span.name, session: span.attributes["dabgent.session_id"] }).toEqual({
          name: span.name,
          session: sessionId
        })
        expect(span.serviceName).toBe("dabgent-under-test")
      }
      for (const span of [...llmSteps, ...toolSteps, ...calls, ...tools]) {
        expect(span.attributes["dabgent.aggregate_id"]).toBe(sessionId)
      }
      // A model call is a child of the step that made it.
      const stepIds = new Set(receiver.spans().map((span) => span.spanId))
      for (const call of calls) expect(stepIds.has(call.parentSpanId ?? "")).toBe(true)

      // Metrics: 12 events (1 session + 11 thread), the tokens, one latency per call, the tool time.
      expect(
        metricTotal(receiver, "dabgent.events.appended", { "dabgent.event.family": "thread" }).value
      ).toBe(11)
      expect(
        metricTotal(receiver, "dabgent.events.appended", { "dabgent.event.family": "session" }).value
      ).toBe(1)
      expect(metricTotal(receiver, "dabgent.llm.tokens", { "gen_ai.token.type": "input" }).value).toBe(520)
      expect(metricTotal(receiver, "dabgent.llm.tokens", { "gen_ai.token.type": "output" }).value).toBe(52)
      expect(metricTotal(receiver, "dabgent.llm.latency", { "dabgent.llm.purpose": "turn" }).count).toBe(3)
      expect(metricTotal(receiver, "dabgent.tool.duration", { "dabgent.tool.name": "bash" }).count).toBe(1)
      expect(receiver.points().find((point) => point.metric === "dabgent.tool.duration")?.unit).toBe("ms")

      // The model's key and the collector's token are in no exported body.
      expect(server.requests.some((r) => r.headers["authorization"] === `Bearer ${apiKey}`)).toBe(true)
      for (const request of received) {
        expect(request.raw).not.toContain(apiKey)
        expect(request.raw).not.toContain(collectorToken)
      }
    } finally {
      await server.close()
      await receiver.close()
    }
  })

  it("a bad OTEL_EXPORTER_OTLP_HEADERS is a configuration error (exit 2) that does not print the value", async () => {
    const dir = tempDir()
    const result = await runCli(["sessions"], {
      cwd: dir,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
        OTEL_EXPORTER_OTLP_HEADERS: `authorization ${collectorToken}`
      }
    })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("OTEL_EXPORTER_OTLP_HEADERS")
    expect(result.stderr + result.stdout).not.toContain(collectorToken)
  })
})

/** Plans with `plan`; each task writes `<id>.txt` then calls done (task `fail` never acts). */
const planner =
  (plan: unknown) =>
  (request: FakeChat.RecordedRequest): FakeChat.FakeResponse => {
    const body = request.body as { tools?: ReadonlyArray<unknown>; messages: ReadonlyArray<{ role: string }> }
    const text = JSON.stringify(body.messages)
    if (body.tools === undefined || body.tools.length === 0)
      return { text: "```json\n" + JSON.stringify(plan) + "\n```" }
    const task = /Your task \(([^,]+),/.exec(text)?.[1] ?? "x"
    if (task === "fail") return { text: "no", usage: { inputTokens: 5, outputTokens: 1 } }
    if (body.messages.filter((m) => m.role === "tool").length === 0)
      return { toolCalls: [{ name: "write_file", params: { path: `${task}.txt`, content: task } }] }
    return { toolCalls: [{ name: "done", params: { summary: `did ${task}` } }] }
  }

const planArgs = (url: string) => ["--model", "openai-compat:m", "--base-url", url, "--sandbox", "local"]

describe("OpenTelemetry export (dabgent coordinate)", () => {
  it("a failed plan (exit 1) still sends its spans: planner steps and task threads under the session", async () => {
    const dir = tempDir()
    const receiver = await OtlpReceiver.start()
    const plan = {
      tasks: [
        { id: "fail", description: "this fails", kind: "tool_call" },
        { id: "after", description: "depends on it", kind: "processing", dependencies: ["fail"] }
      ]
    }
    const server = await FakeChat.start({ handler: planner(plan) })
    try {
      const result = await runCli(["coordinate", "doomed", ...planArgs(server.url), "--max-steps", "2"], {
        cwd: dir,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }
      })
      expect(result.code).toBe(1)
      const sessionId = sessionIdOf(result.stderr, "p")
      const plannerSteps = named(receiver, "PlannerWorker.step")
      expect(plannerSteps.length).toBeGreaterThan(0)
      for (const step of plannerSteps) expect(step.attributes["dabgent.session_id"]).toBe(sessionId)
      const planning = named(receiver, "llm.generate").filter(
        (s) => s.attributes["dabgent.llm.purpose"] === "plan"
      )
      expect(planning).toHaveLength(1)
      expect(planning[0]?.attributes["dabgent.session_id"]).toBe(sessionId)
      // The task thread's steps name the task aggregate and the session it belongs to.
      const taskSteps = named(receiver, "LlmWorker.step")
      expect(taskSteps.length).toBeGreaterThan(0)
      for (const step of taskSteps) {
        expect(step.attributes["dabgent.aggregate_id"]).toBe(`${sessionId}/task-fail`)
        expect(step.attributes["dabgent.session_id"]).toBe(sessionId)
      }
      expect(
        metricTotal(receiver, "dabgent.events.appended", { "dabgent.event.family": "planner" }).value
      ).toBeGreaterThan(0)
    } finally {
      await server.close()
      await receiver.close()
    }
  })

  it("a session waiting for an answer (exit 3) sends its spans before it exits", async () => {
    const dir = tempDir()
    const receiver = await OtlpReceiver.start()
    const plan = {
      tasks: [
        { id: "q", description: "Which language should it be written in?", kind: "clarification" },
        { id: "w", description: "write it", kind: "tool_call", dependencies: ["q"] }
      ]
    }
    const server = await FakeChat.start({ handler: planner(plan) })
    try {
      const result = await runCli(["coordinate", "write a tool", ...planArgs(server.url)], {
        cwd: dir,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }
      })
      expect(result.code).toBe(3)
      const sessionId = sessionIdOf(result.stderr, "p")
      const steps = named(receiver, "PlannerWorker.step")
      expect(steps.length).toBeGreaterThan(0)
      expect(steps.every((step) => step.attributes["dabgent.session_id"] === sessionId)).toBe(true)
      expect(
        named(receiver, "Planning.runPlanSession").map((s) => s.attributes["dabgent.session_id"])
      ).toEqual([sessionId])
    } finally {
      await server.close()
      await receiver.close()
    }
  })
})
