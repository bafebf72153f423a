/**
 * One behaviour suite, run against both layers: path confinement, file operations, timeouts
 * that kill the whole process group, capped output and a clean environment.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Sandbox from "../../src/sandbox/index.js"
import { awaitProcess, liveProcesses, tempDir, uniqueSleep } from "./support.js"

type Make = (dir: string, options?: Sandbox.Options) => Effect.Effect<Sandbox.Sandbox["Type"], unknown>

const layers: ReadonlyArray<{ readonly kind: "local" | "bwrap"; readonly make: Make }> = [
  { kind: "local", make: (dir, options) => Sandbox.makeLocal(dir, options) },
  { kind: "bwrap", make: (dir, options) => Sandbox.makeBwrap(dir, options) }
]

/** A sandbox on a fresh folder, with a second fresh folder outside it to escape to. */
const fixture = (make: Make, options?: Sandbox.Options) =>
  Effect.gen(function* () {
    const root = yield* tempDir("sandbox")
    const outside = yield* tempDir("outside")
    yield* Effect.promise(() => fs.writeFile(path.join(outside, "secret.txt"), "top secret"))
    const sandbox = yield* Effect.orDie(make(root, options))
    return { root, outside, sandbox }
  })

const failureTag = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.match(effect, { onFailure: (error) => error._tag, onSuccess: () => "success" })

const exists = (file: string) =>
  Effect.promise(() =>
    fs.lstat(file).then(
      () => true,
      () => false
    )
  )

const elapsed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const started = Date.now()
    const result = yield* effect
    return { result, ms: Date.now() - started }
  })

const scoped = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.scoped(effect)

for (const { kind, make } of layers) {
  describe(`Sandbox (${kind})`, () => {
    it.live("runs bash in the root and reports a non-zero exit as a result", () =>
      scoped(
        Effect.gen(function* () {
          const { root, sandbox } = yield* fixture(make)
          expect(sandbox.kind).toBe(kind)
          const result = yield* sandbox.exec("pwd; echo oops >&2; exit 3")
          expect(result).toMatchObject({
            exitCode: 3,
            timedOut: false,
            stdout: `${root}\n`,
            stderr: "oops\n",
            truncated: false
          })
          expect(result.signal).toBeUndefined()
        })
      )
    )

    it.live("keeps the parent's secrets out of the command's environment", () =>
      scoped(
        Effect.gen(function* () {
          const secrets = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DABGENT_API_KEY", "DABGENT_DATABASE_URL"]
          yield* Effect.acquireRelease(
            Effect.sync(() => secrets.forEach((name) => (process.env[name] = `secret-${name}`))),
            () => Effect.sync(() => secrets.forEach((name) => delete process.env[name]))
          )
          const { root, sandbox } = yield* fixture(make)
          const result = yield* sandbox.exec("env")
          expect(result.exitCode).toBe(0)
          for (const name of secrets) expect(result.stdout).not.toContain(name)
          expect(result.stdout).not.toContain("secret-")
          expect(result.stdout).toContain(`HOME=${root}\n`)
        })
      )
    )

    it.live("rejects paths that leave the root by .. or as absolute paths elsewhere", () =>
      scoped(
        Effect.gen(function* () {
          const { root, outside, sandbox } = yield* fixture(make)
          const escape = path.relative(root, path.join(outside, "secret.txt"))
          for (const target of [
            "../x",
            "a/../../x",
            escape,
            "/etc/passwd",
            path.join(outside, "secret.txt")
          ]) {
            expect(yield* failureTag(sandbox.readFile(target))).toBe("PathOutsideSandbox")
            expect(yield* failureTag(sandbox.writeFile(target, "pwned"))).toBe("PathOutsideSandbox")
            expect(yield* failureTag(sandbox.remove(target))).toBe("PathOutsideSandbox")
            expect(yield* failureTag(sandbox.list(target))).toBe("PathOutsideSandbox")
          }
          expect(yield* Effect.promise(() => fs.readFile(path.join(outside, "secret.txt"), "utf8"))).toBe(
            "top secret"
          )
          // Inside the root, absolute paths and harmless .. are fine.
          yield* sandbox.writeFile(path.join(root, "abs.txt"), "absolute")
          expect(yield* sandbox.readFile("a/../abs.txt")).toBe("absolute")
        })
      )
    )

    it.live("rejects reading, writing and listing through symlinks that point outside", () =>
      scoped(
        Effect.gen(function* () {
          const { root, outside, sandbox } = yield* fixture(make)
          yield* Effect.promise(async () => {
            await fs.symlink("/etc", path.join(root, "etc"))
            await fs.symlink(outside, path.join(root, "out"))
            await fs.symlink(path.join(outside, "secret.txt"), path.join(root, "secret"))
            await fs.symlink(path.join(outside, "created.txt"), path.join(root, "dangling"))
          })
          expect(yield* failureTag(sandbox.readFile("etc/passwd"))).toBe("PathOutsideSandbox")
          expect(yield* failureTag(sandbox.writeFile("etc/evil", "x"))).toBe("PathOutsideSandbox")
          expect(yield* failureTag(sandbox.list("etc"))).toBe("PathOutsideSandbox")
          expect(yield* failureTag(sandbox.readFile("secret"))).toBe("PathOutsideSandbox")
          expect(yield* failureTag(sandbox.writeFile("secret", "overwritten"))).toBe("PathOutsideSandbox")
          expect(yield* failureTag(sandbox.writeFile("out/new/file.txt", "x"))).toBe("PathOutsideSandbox")
          expect(yield* failureTag(sandbox.writeFile("dangling", "x"))).toBe("PathOutsideSandbox")
          expect(yield* failureTag(sandbox.remove("out/secret.txt"))).toBe("PathOutsideSandbox")
          expect(yield* exists(path.join(outside, "created.txt"))).toBe(false)
          expect(yield* exists(path.join(outside, "new"))).toBe(false)
          // Removing the link itself is fine and leaves its target alone.
          yield* sandbox.remove("out")
          expect(yield* exists(path.join(root, "out"))).toBe(false)
          expect(yield* Effect.promise(() => fs.readFile(path.join(outside, "secret.txt"), "utf8"))).toBe(
            "top secret"
          )
        })
      )
    )

    it.live("follows symlinks that stay inside the root", () =>
      scoped(
        Effect.gen(function* () {
          const { root, sandbox } = yield* fixture(make)
          yield* sandbox.writeFile("real/file.txt", "inside")
          yield* Effect.promise(() => fs.symlink("real", path.join(root, "alias")))
          expect(yield* sandbox.readFile("alias/file.txt")).toBe("inside")
          yield* sandbox.writeFile("alias/other.txt", "through the link")
          expect(yield* sandbox.readFile("real/other.txt")).toBe("through the link")
          expect(yield* sandbox.list()).toEqual([
            { name: "alias", type: "symlink", size: 4 },
            { name: "real", type: "directory", size: expect.any(Number) }
          ])
        })
      )
    )

    it.live("writes with parent folders, lists, removes, and reports missing paths as IO errors", () =>
      scoped(
        Effect.gen(function* () {
          const { root, sandbox } = yield* fixture(make)
          yield* sandbox.writeFile("src/deep/a.txt", "héllo")
          expect(yield* sandbox.readFile("src/deep/a.txt")).toBe("héllo")
          expect(yield* sandbox.list("src/deep")).toEqual([{ name: "a.txt", type: "file", size: 6 }])
          const missing = yield* Effect.flip(sandbox.readFile("nope.txt"))
          expect(missing).toMatchObject({
            _tag: "SandboxIOError",
            operation: "readFile",
            reason: "not found"
          })
          const directory = yield* Effect.flip(sandbox.readFile("src"))
          expect(directory).toMatchObject({ _tag: "SandboxIOError", reason: "is a directory" })
          yield* sandbox.remove("src")
          expect(yield* sandbox.list()).toEqual([])
          expect(yield* Effect.flip(sandbox.remove("src"))).toMatchObject({ reason: "not found" })
          for (const self of [".", "", root, "a/.."]) {
            expect(yield* Effect.flip(sandbox.remove(self))).toMatchObject({ _tag: "SandboxIOError" })
          }
          expect(yield* exists(root)).toBe(true)
          // The commands see what the file operations wrote.
          yield* sandbox.writeFile("empty.txt", "")
          expect(yield* sandbox.readFile("empty.txt")).toBe("")
          yield* sandbox.writeFile("note.txt", "from the host")
          expect((yield* sandbox.exec("cat note.txt")).stdout).toBe("from the host")
        })
      )
    )

    it.live("reads a huge file as head and tail without loading it", () =>
      scoped(
        Effect.gen(function* () {
          const { root, sandbox } = yield* fixture(make, { maxReadBytes: 1000 })
          const body = "BEGIN" + "x".repeat(5_000_000) + "FINISH"
          yield* Effect.promise(() => fs.writeFile(path.join(root, "big.txt"), body))
          const text = yield* sandbox.readFile("big.txt")
          expect(text.startsWith("BEGINxxx")).toBe(true)
          expect(text.endsWith("xxxFINISH")).toBe(true)
          expect(text).toContain(`[... ${body.length - 1000} bytes cut ...]`)
          expect(text.length).toBeLessThan(1100)
        })
      )
    )

    it.live("kills a command that hangs at its timeout", () =>
      scoped(
        Effect.gen(function* () {
          const { sandbox } = yield* fixture(make, { killGrace: "500 millis" })
          const marker = uniqueSleep(60)
          const { result, ms } = yield* elapsed(
            sandbox.exec(`echo before; sleep ${marker}`, { timeout: "1 second" })
          )
          expect(result).toMatchObject({ timedOut: true, exitCode: null, stdout: "before\n" })
          expect(ms).toBeGreaterThanOrEqual(900)
          expect(ms).toBeLessThan(10_000)
          expect(yield* liveProcesses(marker)).toEqual([])
        })
      )
    )

    it.live("kills a command that ignores SIGTERM with SIGKILL after the grace", () =>
      scoped(
        Effect.gen(function* () {
          const { sandbox } = yield* fixture(make, { killGrace: "500 millis" })
          const marker = uniqueSleep(60)
          const { result, ms } = yield* elapsed(
            sandbox.exec(`trap '' TERM; sleep ${marker}; echo survived`, { timeout: "1 second" })
          )
          expect(result).toMatchObject({ timedOut: true, exitCode: null, stdout: "" })
          if (kind === "local") expect(result.signal).toBe("SIGKILL")
          expect(ms).toBeLessThan(10_000)
          expect(yield* liveProcesses(marker)).toEqual([])
        })
      )
    )

    it.live("does not wait for a background job holding the output open, and stops it", () =>
      scoped(
        Effect.gen(function* () {
          const { sandbox } = yield* fixture(make, { killGrace: "500 millis" })
          const marker = uniqueSleep(60)
          const { result, ms } = yield* elapsed(sandbox.exec(`sleep ${marker} & echo started`))
          expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: "started\n" })
          expect(ms).toBeLessThan(10_000)
          expect(yield* liveProcesses(marker)).toEqual([])
        })
      )
    )

    it.live("kills the process group when the calling fiber is interrupted", () =>
      scoped(
        Effect.gen(function* () {
          const { sandbox } = yield* fixture(make, { killGrace: "500 millis" })
          const marker = uniqueSleep(60)
          const fiber = yield* Effect.fork(sandbox.exec(`sleep ${marker} & sleep ${marker}`))
          yield* awaitProcess(marker)
          const { ms } = yield* elapsed(Fiber.interrupt(fiber))
          expect(ms).toBeLessThan(10_000)
          expect(yield* liveProcesses(marker)).toEqual([])
        })
      )
    )

    it.live("stops a background job that ignores SIGTERM", () =>
      scoped(
        Effect.gen(function* () {
          const { sandbox } = yield* fixture(make, { killGrace: "500 millis" })
          const marker = uniqueSleep(60)
          const { result, ms } = yield* elapsed(
            sandbox.exec(`(trap '' TERM; sleep ${marker}) & echo started`)
          )
          expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: "started\n" })
          expect(ms).toBeLessThan(10_000)
          expect(yield* liveProcesses(marker)).toEqual([])
        })
      )
    )

    it.live("returns even when a job escapes the process group and keeps the output open", () =>
      scoped(
        Effect.gen(function* () {
          const { sandbox } = yield* fixture(make, { killGrace: "300 millis" })
          const marker = uniqueSleep(30)
          yield* Effect.addFinalizer(() =>
            liveProcesses(marker).pipe(
              Effect.map((pids) => pids.forEach((pid) => process.kill(pid, "SIGKILL"))),
              Effect.ignore
            )
          )
          const { result, ms } = yield* elapsed(sandbox.exec(`setsid sleep ${marker} & echo started`))
          expect(result).toMatchObject({ exitCode: 0, stdout: "started\n" })
          expect(ms).toBeLessThan(10_000)
          // Only bubblewrap's PID namespace reaches a process that left the group.
          if (kind === "bwrap") expect(yield* liveProcesses(marker)).toEqual([])
        })
      )
    )

    it.live("interrupting a command that ignores SIGTERM still returns and kills it", () =>
      scoped(
        Effect.gen(function* () {
          const { sandbox } = yield* fixture(make, { killGrace: "500 millis" })
          const marker = uniqueSleep(60)
          const fiber = yield* Effect.fork(sandbox.exec(`trap '' TERM; sleep ${marker}`))
          yield* awaitProcess(marker)
          const { ms } = yield* elapsed(Fiber.interrupt(fiber))
          expect(ms).toBeLessThan(10_000)
          expect(yield* liveProcesses(marker)).toEqual([])
        })
      )
    )

    it.live("caps 10 MB of output per stream, keeping head and tail", () =>
      scoped(
        Effect.gen(function* () {
          const { sandbox } = yield* fixture(make, { maxOutputBytes: 64 * 1024 })
          const result = yield* sandbox.exec(
            "echo START; yes line | head -c 10000000; echo END; echo ERR-START >&2; yes e | head -c 3000000 >&2; echo ERR-END >&2"
          )
          expect(result.exitCode).toBe(0)
          expect(result.truncated).toBe(true)
          expect(result.stdout.startsWith("START\nline\n")).toBe(true)
          expect(result.stdout.endsWith("line\nEND\n")).toBe(true)
          expect(result.stdout).toMatch(/\n\[\.\.\. \d+ bytes cut \.\.\.\]\n/)
          expect(result.stdout.length).toBeLessThan(64 * 1024 + 100)
          expect(result.stderr.startsWith("ERR-START\n")).toBe(true)
          expect(result.stderr.endsWith("e\nERR-END\n")).toBe(true)
          expect(result.stderr.length).toBeLessThan(64 * 1024 + 100)
        })
      )
    )

    it.live("fails with ExecError when the command cannot start at all", () =>
      scoped(
        Effect.gen(function* () {
          const { root, sandbox } = yield* fixture(make)
          yield* Effect.promise(() => fs.rm(root, { recursive: true }))
          expect(yield* Effect.flip(sandbox.exec("true"))).toMatchObject({
            _tag: "ExecError",
            command: "true"
          })
        })
      )
    )
  })
}
