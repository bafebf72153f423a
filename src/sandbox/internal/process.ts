/**
 * Runs one child process in its own process group with a hard timeout, bounded output
 * capture, and a guarantee that nothing of the group outlives the call.
 *
 * Built on `node:child_process` rather than @effect/platform's Command: Command merges the
 * parent's environment into the child and waits for a child that ignores SIGTERM when its
 * scope closes; here the environment is exactly what the caller gives and every wait is
 * bounded.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { spawn, type ChildProcess } from "node:child_process"
import { ExecError } from "../SandboxError.js"
import { CappedOutput } from "./output.js"

/** What to run and under which limits. */
export interface ProcessSpec {
  readonly file: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** Shown in errors: what the user asked to run. */
  readonly command: string
  readonly timeout: Duration.Duration
  readonly killGrace: Duration.Duration
  readonly maxOutputBytes: number
}

/** How a run ended. */
export interface ProcessOutcome {
  readonly exitCode: number | null
  readonly signal: string | null
  readonly timedOut: boolean
  readonly stdout: string
  readonly stderr: string
  readonly truncated: boolean
  readonly durationMs: number
}

interface ExitStatus {
  readonly code: number | null
  readonly signal: string | null
}

interface Running {
  /** Undefined when `spawn` itself threw. */
  readonly child: ChildProcess | undefined
  readonly stdout: CappedOutput
  readonly stderr: CappedOutput
  /** Succeeds once the process runs; fails when it could not be started. */
  readonly started: Deferred.Deferred<void, ExecError>
  readonly exited: Deferred.Deferred<ExitStatus>
  /** All stdio pipes are closed: no more output can arrive. */
  readonly closed: Deferred.Deferred<void>
}

/**
 * Sends `signal` to the whole process group led by `pid`. A group that is already gone is
 * not an error.
 */
const signalGroup = (pid: number | undefined, signal: NodeJS.Signals): void => {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** Spawns the child and wires every event into the Deferreds, synchronously, so none is missed. */
const start = (spec: ProcessSpec): Effect.Effect<Running> =>
  Effect.gen(function* () {
    const started = yield* Deferred.make<void, ExecError>()
    const exited = yield* Deferred.make<ExitStatus>()
    const closed = yield* Deferred.make<void>()
    const stdout = new CappedOutput(spec.maxOutputBytes)
    const stderr = new CappedOutput(spec.maxOutputBytes)
    const failStart = (error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error)
      Deferred.unsafeDone(started, Exit.fail(new ExecError({ command: spec.command, reason })))
      Deferred.unsafeDone(exited, Exit.succeed({ code: null, signal: null }))
      Deferred.unsafeDone(closed, Exit.void)
    }
    const child = yield* Effect.sync(() => {
      try {
        return spawn(spec.file, [...spec.args], {
          cwd: spec.cwd,
          env: { ...spec.env },
          // A new session and process group, so the whole group can be signalled at once.
          detached: true,
          stdio: ["ignore", "pipe", "pipe"]
        })
      } catch (error) {
        failStart(error)
        return undefined
      }
    })
    if (child !== undefined) {
      child.on("spawn", () => Deferred.unsafeDone(started, Exit.void))
      child.on("error", (error) => {
        // Spawn failures arrive here; an error after a successful start (a failed kill) does not matter.
        if (child.pid === undefined) failStart(error)
      })
      child.on("exit", (code, signal) => Deferred.unsafeDone(exited, Exit.succeed({ code, signal })))
      child.on("close", () => Deferred.unsafeDone(closed, Exit.void))
      child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk))
      child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk))
    }
    return { child, stdout, stderr, started, exited, closed }
  })

/**
 * Waits for `deferred`, at most `limit`; true when it completed. The wait itself is made
 * interruptible: inside a release (uninterruptible) a timeout could not stop it otherwise.
 */
const awaitWithin = <A>(deferred: Deferred.Deferred<A>, limit: Duration.Duration) =>
  Effect.interruptible(Deferred.await(deferred)).pipe(Effect.timeoutOption(limit), Effect.map(Option.isSome))

/** SIGTERM to the group; SIGKILL after the grace if the process has not exited by then. */
const terminate = (running: Running, grace: Duration.Duration) =>
  Effect.gen(function* () {
    if (yield* Deferred.isDone(running.exited)) return
    signalGroup(running.child?.pid, "SIGTERM")
    if (yield* awaitWithin(running.exited, grace)) return
    signalGroup(running.child?.pid, "SIGKILL")
    yield* awaitWithin(running.exited, grace)
  })

/**
 * After the main process is gone: stop whatever it left behind in its group (a background job
 * holding the pipes open), then stop waiting for output. Bounded by twice the grace, even if a
 * process escaped the group with `setsid` and keeps the pipes open.
 */
const settle = (running: Running, grace: Duration.Duration) =>
  Effect.gen(function* () {
    yield* terminate(running, grace)
    const pid = running.child?.pid
    signalGroup(pid, "SIGTERM")
    yield* awaitWithin(running.closed, grace)
    signalGroup(pid, "SIGKILL")
    if (!(yield* awaitWithin(running.closed, grace))) {
      running.child?.stdout?.destroy()
      running.child?.stderr?.destroy()
    }
  })

/**
 * Runs `spec` to completion or timeout. Exits, signals and timeouts are results; only a
 * failure to start is an `ExecError`. Interrupting the fiber terminates the process group
 * the same way a timeout does.
 */
export const run = (spec: ProcessSpec): Effect.Effect<ProcessOutcome, ExecError> =>
  Effect.gen(function* () {
    const startedAt = Date.now()
    const { running, status, timedOut } = yield* Effect.acquireUseRelease(
      start(spec),
      (running) =>
        Effect.gen(function* () {
          yield* Deferred.await(running.started)
          const finished = yield* Deferred.await(running.exited).pipe(Effect.timeoutOption(spec.timeout))
          if (Option.isSome(finished)) return { running, status: finished.value, timedOut: false }
          yield* terminate(running, spec.killGrace)
          const exited = yield* Deferred.poll(running.exited)
          const status = Option.isSome(exited) ? yield* exited.value : { code: null, signal: "SIGKILL" }
          return { running, status, timedOut: true }
        }),
      (running) => settle(running, spec.killGrace)
    )
    const truncated = running.stdout.truncated || running.stderr.truncated
    return {
      exitCode: status.code,
      signal: status.signal,
      timedOut,
      stdout: running.stdout.render(),
      stderr: running.stderr.render(),
      truncated,
      durationMs: Date.now() - startedAt
    }
  })
