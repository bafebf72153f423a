/**
 * `Telemetry` as a library user composes it: the layer provided around an agent run in the same
 * process (scripted model, in-memory store), exporting to a local OTLP/HTTP receiver; and the
 * configuration read from the environment.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DabgentAgent, layerMemory, Telemetry } from "../../src/index.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import * as Validator from "../../src/tools/Validator.js"
import { writeRunDone } from "../support/agentScript.js"
import * as OtlpReceiver from "../support/otlpReceiver.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("Telemetry.config", () => {
  it.effect("no endpoint (unset or blank): nothing to export", () =>
    Effect.gen(function* () {
      expect(Option.isNone(yield* Telemetry.config.pipe(withEnv({})))).toBe(true)
      expect(Option.isNone(yield* Telemetry.config.pipe(withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: " " })))).toBe(
        true
      )
    })
  )

  it.effect("endpoint, service name (default dabgent) and headers, the headers held as a secret", () =>
    Effect.gen(function* () {
      const plain = yield* Telemetry.config.pipe(
        withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })
      )
      expect(Option.map(plain, (o) => [o.endpoint, o.serviceName, o.headers])).toEqual(
        Option.some(["http://collector:4318/", "dabgent", undefined])
      )
      const full = yield* Telemetry.config.pipe(
        withEnv({
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
          OTEL_SERVICE_NAME: "agents",
          OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=abc%3D%3D, x-team = blue"
        })
      )
      const options = Option.getOrThrow(full)
      expect(options.serviceName).toBe("agents")
      expect(String(options.headers)).not.toContain("abc")
      expect(options.headers === undefined ? {} : Redacted.value(options.headers)).toEqual({
        "x-api-key": "abc==",
        "x-team": "blue"
      })
    })
  )

  it.effect(
    "a malformed header list fails with the variable's name and the entry's position, not its text",
    () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          Telemetry.config.pipe(
            withEnv({
              OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
              OTEL_EXPORTER_OTLP_HEADERS: "a=1,secretvalue"
            })
          )
        )
        expect(String(error)).toContain("OTEL_EXPORTER_OTLP_HEADERS")
        expect(String(error)).toContain("entry 2")
        expect(String(error)).not.toContain("secretvalue")
        expect(Either.isLeft(Telemetry.parseHeaders(Redacted.make("k=%E0%A4%A")))).toBe(true)
      })
  )
})

describe("Telemetry.layer in process", () => {
  it.live("a run under the layer exports its steps, model calls and tool runs with the session id", () =>
    Effect.gen(function* () {
      const receiver = yield* Effect.acquireRelease(
        Effect.promise(() => OtlpReceiver.start()),
        (receiver) => Effect.promise(() => receiver.close())
      )
      const dir = mkdtempSync(join(tmpdir(), "dabgent-otel-lib-"))
      const agent = DabgentAgent.layer.pipe(
        Layer.provideMerge(Validator.layer(undefined).pipe(Layer.provideMerge(Sandbox.layerLocal(dir)))),
        Layer.provideMerge(ScriptedLanguageModel.layer([writeRunDone(), writeRunDone(), writeRunDone()])),
        Layer.provideMerge(layerMemory)
      )
      const telemetry = Telemetry.layer({ endpoint: receiver.url, serviceName: "embedded" }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
      const summary = yield* Effect.flatMap(DabgentAgent, (agent) =>
        agent.simpleExecute("write and run hello.sh", { maxSteps: 10 })
      ).pipe(Effect.provide(agent), Effect.provide(telemetry))
      expect(summary.status).toBe("Done")

      // Closing the layer sent everything: no waiting for the export interval.
      const spans = receiver.spans()
      const of = (name: string) => spans.filter((span) => span.name === name)
      expect(of("LlmWorker.step")).toHaveLength(3)
      expect(of("llm.generate")).toHaveLength(3)
      expect(of("ToolWorker.tool").map((span) => span.attributes["dabgent.tool.name"])).toEqual([
        "write_file",
        "bash",
        "done"
      ])
      for (const span of [
        ...of("LlmWorker.step"),
        ...of("ToolWorker.step"),
        ...of("llm.generate"),
        ...of("ToolWorker.tool")
      ]) {
        expect(span.attributes["dabgent.session_id"]).toBe(summary.sessionId)
        expect(span.serviceName).toBe("embedded")
      }
      // Metrics are process-wide and cumulative: at least this run's tokens are in.
      const input = receiver
        .points()
        .filter((p) => p.metric === "dabgent.llm.tokens" && p.attributes["gen_ai.token.type"] === "input")
        .reduce((sum, p) => sum + p.value, 0)
      expect(input).toBeGreaterThanOrEqual(450)
    }).pipe(Effect.scoped)
  )
})
