/**
 * Helpers for the sandbox tests: fresh temporary folders and a look at the host's process
 * table that ignores zombies (this machine's init does not reap orphans).
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"

/** A fresh folder under the system temp dir, removed when the scope closes. */
export const tempDir = (label: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), `dabgent-${label}-`))),
    (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
  )

/** A number that makes a `sleep` command line unique, so a test can find its own processes. */
export const uniqueSleep = (seconds: number): string =>
  `${seconds}.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`

/** Pids of live (not zombie) processes whose command line contains `marker`. */
export const liveProcesses = (marker: string): Effect.Effect<ReadonlyArray<number>> =>
  Effect.promise(async () => {
    const found: Array<number> = []
    for (const name of await fs.readdir("/proc")) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
      try {
        const cmdline = (await fs.readFile(`/proc/${name}/cmdline`, "utf8")).replaceAll("\0", " ")
        if (!cmdline.includes(marker)) continue
        const stat = await fs.readFile(`/proc/${name}/stat`, "utf8")
        const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
        if (state !== "Z" && state !== "X") found.push(Number(name))
      } catch {
        // The process ended while we looked.
      }
    }
    return found
  })

/** Waits until a live process matching `marker` shows up (at most ~5 s). */
export const awaitProcess = (marker: string): Effect.Effect<void> =>
  liveProcesses(marker).pipe(
    Effect.flatMap((pids) => (pids.length > 0 ? Effect.void : Effect.fail("not yet"))),
    Effect.retry({ times: 100, schedule: Schedule.spaced("50 millis") }),
    Effect.orDie
  )
