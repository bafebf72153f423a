/**
 * What only bubblewrap gives: no network unless allowed, a read-only system and an invisible
 * rest of the host; plus how `layerAuto` chooses and tells about its fallback.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as path from "node:path"
import * as Sandbox from "../../src/sandbox/index.js"
import { tempDir } from "./support.js"

/** A TCP server on a loopback port for the duration of the scope. */
const loopbackServer = Effect.acquireRelease(
  Effect.async<net.Server & { port: number }>((resume) => {
    const server = net.createServer((socket) => {
      // The client inside the sandbox may close first; a reset is not a failure of the test.
      socket.on("error", () => undefined)
      socket.end("hello\n")
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resume(Effect.succeed(Object.assign(server, { port })))
    })
  }),
  (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
)

const connect = (port: number) => `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected`

describe("Sandbox (bwrap isolation)", () => {
  it.live("is available on this machine", () =>
    Effect.gen(function* () {
      expect(yield* Sandbox.bwrapAvailable).toBe(true)
    })
  )

  it.scopedLive("has no network by default, not even to the host's loopback", () =>
    Effect.gen(function* () {
      const { port } = yield* loopbackServer
      const local = yield* Sandbox.makeLocal(yield* tempDir("sandbox"))
      expect((yield* local.exec(connect(port))).stdout).toBe("connected\n")
      const isolated = yield* Sandbox.makeBwrap(yield* tempDir("sandbox"))
      const result = yield* isolated.exec(connect(port))
      expect(result.exitCode).not.toBe(0)
      expect(result.stdout).toBe("")
    })
  )

  it.scopedLive("reaches the network with allowNetwork", () =>
    Effect.gen(function* () {
      const { port } = yield* loopbackServer
      const sandbox = yield* Sandbox.makeBwrap(yield* tempDir("sandbox"), { allowNetwork: true })
      const result = yield* sandbox.exec(connect(port))
      expect(result).toMatchObject({ exitCode: 0, stdout: "connected\n" })
    })
  )

  it.scopedLive("cannot write outside its folder, and sees nothing of the host beyond the system", () =>
    Effect.gen(function* () {
      const root = yield* tempDir("sandbox")
      const sibling = yield* tempDir("outside")
      const sandbox = yield* Sandbox.makeBwrap(root)
      const projectFile = path.join(process.cwd(), `sandbox-escape-${process.pid}.txt`)
      const attempts = [
        "/usr/sandbox-escape.txt",
        "/etc/sandbox-escape.txt",
        projectFile,
        path.join(sibling, "escape.txt")
      ]
      for (const target of attempts) {
        const result = yield* sandbox.exec(`echo pwned > ${target}`)
        expect(result.exitCode).not.toBe(0)
        expect(
          yield* Effect.promise(() =>
            fs.access(target).then(
              () => true,
              () => false
            )
          )
        ).toBe(false)
      }
      // /tmp inside is private; the folder itself is writable.
      yield* sandbox.exec("echo private > /tmp/scratch.txt && echo kept > kept.txt")
      expect(
        yield* Effect.promise(() =>
          fs.access("/tmp/scratch.txt").then(
            () => true,
            () => false
          )
        )
      ).toBe(false)
      expect(yield* sandbox.readFile("kept.txt")).toBe("kept\n")
      // The project and the other temp folders are not even visible.
      const look = yield* sandbox.exec(`ls ${process.cwd()} ${sibling}`)
      expect(look.exitCode).not.toBe(0)
      expect(look.stdout).toBe("")
    })
  )

  it.scopedLive("fails to build with SandboxUnavailable when bwrap is missing", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Sandbox.makeBwrap(yield* tempDir("sandbox"), { bwrapPath: "/nonexistent/bwrap" })
      )
      expect(error).toMatchObject({ _tag: "SandboxUnavailable", kind: "bwrap" })
    })
  )

  it.scopedLive("layerAuto prefers bwrap and falls back to local with one notice", () =>
    Effect.gen(function* () {
      const notices = yield* Ref.make<ReadonlyArray<string>>([])
      const onFallback = (notice: string) => Ref.update(notices, (all) => [...all, notice])
      const preferred = yield* Sandbox.makeAuto(yield* tempDir("sandbox"), { onFallback })
      expect(preferred.kind).toBe("bwrap")
      const local = yield* Sandbox.makeAuto(yield* tempDir("sandbox"), { onFallback, prefer: "local" })
      expect(local.kind).toBe("local")
      expect(yield* Ref.get(notices)).toEqual([])
      const fallback = yield* Sandbox.makeAuto(yield* tempDir("sandbox"), {
        onFallback,
        bwrapPath: "/nonexistent/bwrap"
      })
      expect(fallback.kind).toBe("local")
      expect((yield* fallback.exec("echo works")).stdout).toBe("works\n")
      const [notice, ...more] = yield* Ref.get(notices)
      expect(more).toEqual([])
      expect(notice).toMatch(/bubblewrap unavailable/)
      expect(notice).not.toContain("\n")
    })
  )

  it.scopedLive("layerAuto provides the Sandbox tag", () =>
    Effect.gen(function* () {
      const root = yield* tempDir("sandbox")
      const kind = yield* Effect.map(Sandbox.Sandbox, (sandbox) => sandbox.kind).pipe(
        Effect.provide(Sandbox.layerAuto(root))
      )
      expect(kind).toBe("bwrap")
    })
  )
})
