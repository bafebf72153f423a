/**
 * The fleet from the command line, around the worker itself: `dabgent sessions` shows the
 * worker that holds a session, `dabgent resume` refuses a session a worker runs, and `--detach`
 * and `worker` need a Postgres store.
 */
import { describe, expect, it } from "@effect/vitest"
import { inject } from "vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as RunThread from "../../src/cli/RunThread.js"
import * as StoreLocation from "../../src/cli/StoreLocation.js"
import { newSessionId } from "../../src/DabgentAgent.js"
import { Leases, Owner } from "../../src/fleet/Leases.js"
import * as PgLeases from "../../src/fleet/PgLeases.js"
import { runCli } from "../support/cli.js"
import { query } from "./fleetScenario.js"

describe("fleet commands", () => {
  it("--detach and worker need a postgres:// store", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dabgent-fleet-cli-"))
    const detach = await runCli(
      ["thread", "--detach", "--model", "openai-compat:m", "--base-url", "http://127.0.0.1:9/v1", "hi"],
      { cwd: dir }
    )
    expect(detach.code).toBe(2)
    expect(detach.stderr).toContain("--detach needs a postgres:// store")
    const worker = await runCli(["worker", "--store", join(dir, "events.db")], { cwd: dir })
    expect(worker.code).toBe(2)
    expect(worker.stderr).toContain("a worker needs a postgres:// store")
  })

  it("sessions shows the owning worker; resume refuses a session a worker holds", async () => {
    const base = inject("databaseUrl")
    const database = `dabgent_fleet_cli_${randomBytes(4).toString("hex")}`
    await query(base, `CREATE DATABASE ${database}`)
    const location = new URL(base)
    location.pathname = `/${database}`
    const url = location.toString()
    const dir = mkdtempSync(join(tmpdir(), "dabgent-fleet-cli-"))
    try {
      const sessionId = newSessionId()
      await Effect.runPromise(
        RunThread.run({
          sessionId,
          store: StoreLocation.parse(url),
          model: Option.some("openai-compat:m"),
          baseUrl: Option.some("http://127.0.0.1:9/v1"),
          workdir: dir,
          sandbox: Option.some("local"),
          allowNetwork: false,
          validate: Option.none(),
          maxSteps: 5,
          json: true,
          input: "none",
          start: { _tag: "New", prompt: "wait for me" },
          detach: true
        })
      )
      const owner = new Owner({
        key: "held-by-test",
        name: "w-test",
        host: "box-7",
        pid: 4242,
        maxSessions: 3
      })
      await Effect.runPromise(
        Effect.gen(function* () {
          const leases = yield* Leases
          yield* leases.heartbeat(owner, Duration.minutes(1))
          const lease = yield* leases.acquire(sessionId, owner, Duration.minutes(1))
          expect(Option.isSome(lease)).toBe(true)
        }).pipe(Effect.provide(PgLeases.layer({ url: Redacted.make(url) })))
      )
      const listed = await runCli(["sessions", "--store", url, "--json"], { cwd: dir })
      expect(listed.code).toBe(0)
      const rows = listed.stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { id: string; detached?: boolean; owner?: unknown })
      expect(rows).toEqual([
        expect.objectContaining({
          id: sessionId,
          detached: true,
          owner: { id: "w-test", host: "box-7", pid: 4242 }
        })
      ])
      const resumed = await runCli(["resume", sessionId, "--store", url], { cwd: dir })
      expect(resumed.code).toBe(2)
      expect(resumed.stderr).toContain(`session ${sessionId} is being run by worker w-test (box-7 pid 4242)`)
    } finally {
      await query(base, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    }
  })
})
