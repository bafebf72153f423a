/**
 * Issue 8, end to end: three `dabgent worker` processes share one Postgres; thirty sessions are
 * submitted with `--detach`; one worker is killed with SIGKILL mid-run. All thirty finish, no
 * tool runs twice, no event is duplicated, and the survivors take the dead worker's sessions
 * over within the bound (lease TTL 4 s here; asserted ≤ 10 s, the default bound of the issue).
 *
 * Run twice: on loopback against a database of its own on the test server, and with the
 * workers in two network namespaces (veth pairs) against a private cluster listening on the
 * host side. The second needs root and `ip`; as with the test database, a machine without them
 * fails the run rather than skipping it.
 */
import { describe, expect, it } from "@effect/vitest"
import { inject } from "vitest"
import { execFileSync, spawn } from "node:child_process"
import { randomBytes, randomInt } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cleanEnv, cliCommand, startCli } from "../support/cli.js"
import * as FakeChat from "../support/fakeChatServer.js"
import * as PgCluster from "../support/pgCluster.js"
import {
  active,
  claimedAt,
  claims,
  endedSessions,
  leaseTtlSeconds,
  logDamage,
  markerLines,
  model,
  query,
  sessionsWanted,
  sleep,
  submitInProcess,
  submitViaCli,
  taskSteps,
  toolSteps,
  track,
  waitFor,
  type WorkerProcess
} from "./fleetScenario.js"

const takeoverBoundMs = 10_000

interface Network {
  /** The store as the test process reaches it. */
  readonly url: string
  /** Starts worker `index` (0, 1, 2) with these CLI arguments (store and model URLs from `urls`). */
  readonly spawnWorker: (index: number, args: ReadonlyArray<string>, cwd: string) => WorkerProcess
  readonly urls: (index: number, fakePort: number) => { readonly store: string; readonly model: string }
  readonly fakeHost: string
}

const scenario = async (network: Network) => {
  const workdir = mkdtempSync(join(tmpdir(), "dabgent-fleet-"))
  const fake = await FakeChat.start({ handler: model, host: network.fakeHost })
  const workers: Array<WorkerProcess> = []
  const t0 = Date.now()
  const phases: Array<string> = []
  const phase = (name: string) => phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)}s`)
  try {
    // Three sessions go through the real CLI while the workers start (a fleet picks up what
    // was submitted before it came up, too).
    const submitOptions = { url: network.url, baseUrl: fake.url, workdir }
    const early = submitViaCli(submitOptions)
    for (let i = 0; i < 3; i++) {
      const urls = network.urls(i, fake.port)
      const args = [
        "worker",
        "--store",
        urls.store,
        "--id",
        `w${i + 1}`,
        "--lease-ttl",
        `${leaseTtlSeconds}s`,
        "--max-sessions",
        "30",
        "--base-url",
        urls.model
      ]
      workers.push(network.spawnWorker(i, args, workdir))
    }
    await waitFor(
      () => workers.every((w) => w.lines.some((line) => / ready: /.test(line.text))),
      60_000,
      "three workers to start"
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${workers.map((w) => `${w.name}: ${w.stderr()}`).join("\n")}`)
    })

    phase("ready")
    const submitted = [...(await submitInProcess(submitOptions)), ...(await early)]
    phase("submitted")
    expect(new Set(submitted.map((s) => s.sessionId)).size).toBe(sessionsWanted)

    // Kill the worker holding the most sessions once the fleet is well into the work.
    await waitFor(
      () => markerLines(workdir).length >= 15 && workers.some((w) => active(w).size >= 3),
      60_000,
      "the fleet to get going"
    )
    const victim = workers.reduce((a, b) => (active(b).size > active(a).size ? b : a))
    const survivors = workers.filter((w) => w !== victim)
    const held = active(victim)
    const killedAt = Date.now()
    phase("kill")
    victim.child.kill("SIGKILL")
    const claimsBeforeKill = workers.map((w) => claims(w, killedAt))
    await sleep(300)
    const endedBeforeKill = await endedSessions(network.url)
    const orphans = [...held].filter((id) => !endedBeforeKill.has(id))

    await waitFor(
      async () => (await endedSessions(network.url)).size >= sessionsWanted,
      90_000,
      "all sessions to end"
    ).catch(async (error: unknown) => {
      const ended = await endedSessions(network.url)
      const open = submitted.filter((s) => !ended.has(s.sessionId)).map((s) => s.sessionId)
      throw new Error(
        `${String(error)}; open: ${open.join(", ")}\n${workers
          .map((w) => `${w.name}:\n${w.lines.map((l) => l.text).join("\n")}\n${w.stderr()}`)
          .join("\n")}`
      )
    })

    phase("all ended")
    // Graceful stop of the survivors.
    const exits = survivors.map(
      (w) => new Promise<number | null>((resolve) => w.child.once("close", (code) => resolve(code)))
    )
    for (const w of survivors) w.child.kill("SIGTERM")
    const codes = await Promise.race([Promise.all(exits), sleep(20_000).then(() => "timeout" as const)])

    const takeovers = orphans.map((id) => {
      const at = survivors
        .map((w) => claimedAt(w, id, killedAt))
        .filter((t): t is number => t !== undefined)
        .sort((a, b) => a - b)[0]
      return { id, ms: at === undefined ? undefined : at - killedAt }
    })
    return {
      workdir,
      submitted,
      ended: await endedSessions(network.url),
      markers: markerLines(workdir),
      damage: await logDamage(network.url),
      resumedBy: await query<{ worker: string }>(
        network.url,
        `SELECT DISTINCT data->>'worker' AS worker FROM dabgent_events WHERE type = 'session.SessionResumed'`
      ),
      victim: victim.name,
      claimsBeforeKill,
      orphans,
      takeovers,
      codes,
      phases,
      workerLines: workers.map((w) => ({ name: w.name, lines: w.lines.map((l) => l.text) }))
    }
  } finally {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL")
    await fake.close()
  }
}

const check = (result: Awaited<ReturnType<typeof scenario>>) => {
  console.log(
    `fleet: ${result.phases.join(", ")}; killed ${result.victim}; claims before the kill ${result.claimsBeforeKill.join("/")}; ` +
      `takeovers ${result.takeovers.map((t) => `${t.id} ${t.ms ?? "-"} ms`).join(", ")}`
  )
  if (process.env.DABGENT_FLEET_DEBUG === "1")
    console.log(result.workerLines.map((w) => `${w.name}:\n${w.lines.join("\n")}`).join("\n"))
  // All thirty finished, each the way it should.
  expect(result.ended.size).toBe(sessionsWanted)
  for (const s of result.submitted) {
    expect([s.sessionId, result.ended.get(s.sessionId)]).toEqual([
      s.sessionId,
      s.mode === "plan" ? "all_done" : "thread.ThreadDone"
    ])
  }
  // No tool ran twice: every marker line is unique and belongs to a submitted session's job.
  const jobs = new Set(result.submitted.map((s) => s.job))
  const repeated = result.markers.filter((line, i) => result.markers.indexOf(line) !== i)
  if (repeated.length > 0) {
    const ids = result.submitted.filter((s) => repeated.some((line) => line.startsWith(`${s.job}:`)))
    console.log(
      `repeated marker lines ${repeated.join(", ")} (${ids.map((s) => `${s.job}=${s.sessionId}`).join(", ")})\n` +
        result.workerLines
          .map(
            (w) =>
              `${w.name}:\n${w.lines.filter((l) => ids.some((s) => l.includes(s.sessionId)) || / lost /.test(l)).join("\n")}`
          )
          .join("\n")
    )
  }
  expect(result.markers.length).toBe(new Set(result.markers).size)
  for (const line of result.markers) expect(jobs.has(line.split(":")[0] ?? "")).toBe(true)
  // A call interrupted by the kill may have no line, but nearly all ran.
  const planned = result.submitted.filter((s) => s.mode === "plan").length
  const expected = (sessionsWanted - planned) * toolSteps + planned * 2 * taskSteps
  expect(result.markers.length).toBeGreaterThan(expected * 0.8)
  expect(result.markers.length).toBeLessThanOrEqual(expected)
  // No event duplicated: per aggregate versions 1..n, no call started or completed twice.
  expect(result.damage.gaps).toEqual([])
  expect(result.damage.twice).toEqual([])
  expect(result.damage.sequences?.n).toBe(result.damage.sequences?.distinct)
  // The work was shared, and the workers recorded who resumed what.
  expect(result.claimsBeforeKill.every((n) => n >= 3)).toBe(true)
  expect(result.resumedBy.map((r) => r.worker).filter((w) => w !== null).length).toBeGreaterThanOrEqual(2)
  // The survivors took every orphan over within the bound.
  expect(result.orphans.length).toBeGreaterThan(0)
  for (const t of result.takeovers) {
    expect(t.ms, `takeover of ${t.id}`).toBeDefined()
    expect(t.ms ?? Infinity).toBeLessThanOrEqual(takeoverBoundMs)
  }
  // SIGTERM: both survivors stopped promptly (interrupted: exit code 130).
  expect(result.codes).toEqual([130, 130])
}

describe("a fleet of workers on one Postgres", () => {
  it("loopback: 3 workers, 30 sessions, one SIGKILLed mid-run", { timeout: 180_000 }, async () => {
    const base = inject("databaseUrl")
    const database = `dabgent_fleet_${randomBytes(4).toString("hex")}`
    await query(base, `CREATE DATABASE ${database}`)
    const url = new URL(base)
    url.pathname = `/${database}`
    try {
      const result = await scenario({
        url: url.toString(),
        fakeHost: "127.0.0.1",
        urls: (_index, port) => ({ store: url.toString(), model: `http://127.0.0.1:${port}/v1` }),
        spawnWorker: (index, args, cwd) => track(`w${index + 1}`, startCli(args, { cwd }))
      })
      check(result)
    } finally {
      await query(base, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    }
  })

  it(
    "two network namespaces: workers reach Postgres and the model over veth pairs",
    { timeout: 240_000 },
    async () => {
      // No skipping: a machine that cannot make namespaces fails this, as CI (root) always can.
      const why = netnsUnavailable() ?? PgCluster.unavailable()
      if (why !== undefined) throw new Error(`cannot run the namespace fleet test: ${why}`)
      const tag = randomBytes(2).toString("hex")
      const octet = randomInt(16, 250)
      const nets = [0, 1].map((i) => ({
        ns: `dabgent${tag}${i}`,
        hostIf: `dvh${tag}${i}`,
        nsIf: `dvn${tag}${i}`,
        hostIp: `10.${231 + i}.${octet}.1`,
        nsIp: `10.${231 + i}.${octet}.2`,
        subnet: `10.${231 + i}.${octet}.0/30`
      }))
      const ip = (...args: Array<string>) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] })
      let cluster: PgCluster.PrivateCluster | undefined
      try {
        for (const net of nets) {
          ip("netns", "add", net.ns)
          ip("link", "add", net.hostIf, "type", "veth", "peer", "name", net.nsIf)
          ip("link", "set", net.nsIf, "netns", net.ns)
          ip("addr", "add", `${net.hostIp}/30`, "dev", net.hostIf)
          ip("link", "set", net.hostIf, "up")
          ip("netns", "exec", net.ns, "ip", "addr", "add", `${net.nsIp}/30`, "dev", net.nsIf)
          ip("netns", "exec", net.ns, "ip", "link", "set", net.nsIf, "up")
          ip("netns", "exec", net.ns, "ip", "link", "set", "lo", "up")
        }
        const created = await PgCluster.create()
        cluster = created
        await created.listenOn(
          nets.map((net) => net.hostIp),
          nets.map((net) => net.subnet)
        )
        const [first, second] = nets
        if (first === undefined || second === undefined) throw new Error("two networks")
        const inside = (index: number) => (index === 2 ? second : first)
        const storeFrom = (hostIp: string) => {
          const url = new URL(created.url)
          url.hostname = hostIp
          return url.toString()
        }
        const result = await scenario({
          url: created.url,
          fakeHost: "0.0.0.0",
          urls: (index, port) => ({
            store: storeFrom(inside(index).hostIp),
            model: `http://${inside(index).hostIp}:${port}/v1`
          }),
          spawnWorker: (index, args, cwd) => {
            const [program, argv] = cliCommand(args)
            const child = spawn("ip", ["netns", "exec", inside(index).ns, program, ...argv], {
              cwd,
              env: cleanEnv(),
              stdio: ["ignore", "pipe", "pipe"]
            })
            return track(`w${index + 1}@${inside(index).ns}`, child)
          }
        })
        check(result)
      } finally {
        cluster?.drop()
        for (const net of nets) {
          try {
            ip("netns", "del", net.ns)
          } catch {
            // not created
          }
          try {
            ip("link", "del", net.hostIf)
          } catch {
            // went with the namespace
          }
        }
      }
    }
  )
})

/** Why namespaces cannot be made here, or `undefined`. */
const netnsUnavailable = (): string | undefined => {
  if (process.getuid?.() !== 0) return "needs root for ip netns"
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" })
    return undefined
  } catch {
    return "the ip command (iproute2) is not installed"
  }
}
