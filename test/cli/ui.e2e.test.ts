/**
 * `dabgent ui` from the command line: a real child process serving a real store (SQLite file,
 * Postgres) on a free port; it prints the URL, answers the API, warns when exposed, and stops
 * at once on Ctrl-C even with a live feed open.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, inject, it } from "vitest"
import { startThread } from "../../src/DabgentAgent.js"
import type { EventStore, StoreError } from "../../src/store/index.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import type * as Layer from "effect/Layer"
import { collect, runCli, startCli, waitForOutput } from "../support/cli.js"
import * as Sse from "../support/sse.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "dabgent-ui-cli-"))

const seed = (layer: Layer.Layer<EventStore, StoreError>) => {
  const sessionId = `t-uicli${randomBytes(4).toString("hex")}`
  return Effect.runPromise(startThread("look at me", { sessionId }).pipe(Effect.provide(layer))).then(
    () => sessionId
  )
}

const urlOf = (child: ReturnType<typeof startCli>): Promise<string> =>
  new Promise((resolve, reject) => {
    let seen = ""
    const onData = (chunk: Buffer) => {
      seen += chunk.toString()
      const match = /dabgent ui: (http:\/\/\S+)/.exec(seen)
      if (match?.[1] !== undefined) {
        child.stdout?.off("data", onData)
        resolve(match[1])
      }
    }
    child.stdout?.on("data", onData)
    child.on("close", () => reject(new Error(`dabgent ui exited before printing its URL:\n${seen}`)))
  })

const stores = (): ReadonlyArray<{
  readonly name: string
  readonly make: (dir: string) => {
    readonly arg: string
    readonly layer: Layer.Layer<EventStore, StoreError>
  }
}> => [
  {
    name: "sqlite",
    make: (dir) => {
      mkdirSync(join(dir, ".dabgent"))
      const filename = join(dir, ".dabgent", "events.db")
      return { arg: filename, layer: SqliteEventStore.layer({ filename }) }
    }
  },
  {
    name: "postgres",
    make: () => ({
      arg: inject("databaseUrl"),
      layer: PgEventStore.layer({ url: Redacted.make(inject("databaseUrl")), maxConnections: 2 })
    })
  }
]

for (const { name, make } of stores()) {
  describe(`dabgent ui (${name})`, () => {
    it(`[${name}] prints its URL, serves the store, and stops on Ctrl-C with a feed open`, async () => {
      const dir = tempDir()
      const store = make(dir)
      const sessionId = await seed(store.layer)
      const child = startCli(["ui", "--port", "0", "--store", store.arg], { cwd: dir })
      const done = collect(child, 90_000)
      const url = await urlOf(child)
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)

      const info = (await (await fetch(`${url}api/info`)).json()) as { allowAnswer: boolean; store: string }
      expect(info.allowAnswer).toBe(false)
      expect(info.store).not.toContain("postgres:postgres@")
      const detail = await fetch(`${url}api/sessions/${sessionId}`)
      expect(detail.status).toBe(200)
      expect(((await detail.json()) as { session: { input: string } }).session.input).toBe("look at me")
      const answer = await fetch(`${url}api/sessions/${sessionId}/answer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"text":"hi"}'
      })
      expect(answer.status).toBe(403)

      const feed = await Sse.connect(`${url}api/sessions/${sessionId}/stream`)
      expect(JSON.parse((await feed.next((m) => m.event === "stored")).data).type).toBe("thread.Prompted")
      const stoppedAt = Date.now()
      child.kill("SIGINT")
      const result = await done
      feed.close()
      expect(result.code).toBe(130)
      // Generous: the point is that an open feed does not keep the server up.
      expect(Date.now() - stoppedAt).toBeLessThan(15_000)
      expect(result.stderr).not.toContain("warning")
    })
  })
}

describe("dabgent ui", () => {
  it("warns on stderr when it listens beyond loopback", async () => {
    const dir = tempDir()
    const store = stores()[0]?.make(dir)
    if (store === undefined) throw new Error("no sqlite store")
    await seed(store.layer)
    const child = startCli(["ui", "--port", "0", "--host", "0.0.0.0", "--store", store.arg], { cwd: dir })
    const done = collect(child, 90_000)
    expect(await waitForOutput(child, /warning: dabgent ui listens on 0\.0\.0\.0/)).toBe(true)
    await urlOf(child)
    child.kill("SIGINT")
    expect((await done).code).toBe(130)
  })

  it("refuses a SQLite store that does not exist, without creating it (exit 2)", async () => {
    const dir = tempDir()
    const result = await runCli(["ui", "--port", "0", "--store", join(dir, "nothing.db")], { cwd: dir })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("no store at")
    expect(existsSync(join(dir, "nothing.db"))).toBe(false)
  })
})
