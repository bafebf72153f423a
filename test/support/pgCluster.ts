/**
 * A throwaway PostgreSQL cluster of its own, for tests that restart the server.
 *
 * Restarting the shared test cluster would break the store tests other files run at the same
 * time; a private cluster (Debian's `pg_createcluster`, on a free port) can be restarted with
 * `pg_ctlcluster` as often as a test likes. It needs root (as in CI) and postgresql-common.
 */
import { execFile, execFileSync } from "node:child_process"
import { appendFileSync } from "node:fs"
import { promisify } from "node:util"
import { randomBytes } from "node:crypto"
import { createServer } from "node:net"

export interface PrivateCluster {
  readonly version: string
  readonly name: string
  readonly port: number
  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres` */
  readonly url: string
  /**
   * `pg_ctlcluster <version> <name> restart` (fast shutdown: every connection is cut), run
   * asynchronously so the test process goes on while the server is down.
   */
  readonly restart: () => Promise<void>
  /** `pg_ctlcluster <version> <name> stop` / `start`, for a longer outage. */
  readonly stop: () => Promise<void>
  readonly start: () => Promise<void>
  /** Waits until the server accepts connections again. */
  readonly waitReady: (timeoutMs?: number) => Promise<void>
  /**
   * Also listens on `addresses` (besides 127.0.0.1) and lets clients from `subnets` (CIDR) in
   * with the password; restarts the server. For clients in other network namespaces.
   */
  readonly listenOn: (addresses: ReadonlyArray<string>, subnets: ReadonlyArray<string>) => Promise<void>
  /** Stops and deletes the cluster. */
  readonly drop: () => void
}

const run = (command: string, args: ReadonlyArray<string>): string =>
  execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })

/** Why a private cluster cannot be made here, or `undefined` when it can. */
export const unavailable = (): string | undefined => {
  if (process.getuid?.() !== 0) return "needs root to create a PostgreSQL cluster"
  try {
    run("pg_lsclusters", ["-h"])
    run("which", ["pg_createcluster"])
    return undefined
  } catch {
    return "postgresql-common (pg_createcluster, pg_ctlcluster) is not installed"
  }
}

/** The newest installed PostgreSQL version, from `pg_lsclusters`. */
const installedVersion = (): string => {
  const versions = run("pg_lsclusters", ["-h"])
    .split("\n")
    .map((line) => line.split(/\s+/)[0] ?? "")
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(a) - Number(b))
  const version = versions.at(-1)
  if (version === undefined) throw new Error("pg_lsclusters lists no cluster to take the version from")
  return version
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Clusters left by test processes that are gone (killed before they could drop theirs). */
const dropLeftovers = (version: string): void => {
  for (const line of run("pg_lsclusters", ["-h"]).split("\n")) {
    const [v, name] = line.split(/\s+/)
    const pid = /^dabgent_test_(\d+)_/.exec(name ?? "")?.[1]
    if (v !== version || name === undefined || pid === undefined) continue
    let alive = true
    try {
      process.kill(Number(pid), 0)
    } catch {
      alive = false
    }
    if (!alive) run("pg_dropcluster", [version, name, "--stop"])
  }
}

/** Creates and starts a private cluster with a random password for `postgres`. */
export const create = async (): Promise<PrivateCluster> => {
  const version = installedVersion()
  dropLeftovers(version)
  const name = `dabgent_test_${process.pid}_${randomBytes(3).toString("hex")}`
  const port = await freePort()
  const password = randomBytes(12).toString("hex")
  run("pg_createcluster", [version, name, "-p", String(port), "--start"])
  const drop = () => {
    try {
      run("pg_dropcluster", [version, name, "--stop"])
    } catch {
      // already gone
    }
  }
  try {
    run("su", ["postgres", "-c", `psql -q -p ${port} -c "ALTER USER postgres PASSWORD '${password}'"`])
  } catch (error) {
    drop()
    throw error
  }
  const ctl = async (action: string) => {
    await promisify(execFile)("pg_ctlcluster", [version, name, action])
  }
  const waitReady = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs
    while (true) {
      try {
        run("pg_isready", ["-q", "-h", "127.0.0.1", "-p", String(port)])
        return
      } catch {
        if (Date.now() > deadline)
          throw new Error(`cluster ${version}/${name} not ready after ${timeoutMs} ms`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }
  const listenOn = async (addresses: ReadonlyArray<string>, subnets: ReadonlyArray<string>) => {
    const dir = `/etc/postgresql/${version}/${name}`
    appendFileSync(
      `${dir}/postgresql.conf`,
      `\nlisten_addresses = '${["127.0.0.1", ...addresses].join(",")}'\n`
    )
    appendFileSync(
      `${dir}/pg_hba.conf`,
      subnets.map((subnet) => `host all all ${subnet} scram-sha-256\n`).join("")
    )
    await ctl("restart")
    await waitReady()
  }
  return {
    version,
    name,
    port,
    listenOn,
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    restart: () => ctl("restart"),
    stop: () => ctl("stop"),
    start: () => ctl("start"),
    waitReady,
    drop
  }
}
