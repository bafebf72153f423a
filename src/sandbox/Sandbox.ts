/**
 * Where an agent's tools act: a working folder with shell commands and file operations, all
 * confined to it.
 *
 * Two layers share one contract: `layerLocal` runs commands on the host in the folder (paths
 * are confined, commands are not isolated) and `layerBwrap` runs them inside bubblewrap
 * (read-only system, writable folder, no network unless allowed). `layerAuto` picks bubblewrap
 * when it works here and says so when it falls back.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { bwrapArgs, probe, type BwrapConfig } from "./internal/bwrap.js"
import * as Files from "./internal/files.js"
import { ioError, type Root } from "./internal/paths.js"
import { run } from "./internal/process.js"
import type { ExecError, PathOutsideSandbox, SandboxIOError } from "./SandboxError.js"
import { SandboxUnavailable } from "./SandboxError.js"

/**
 * How a command ended. A non-zero exit and a timeout are results, not errors: the model needs
 * to see them. Each stream is capped separately; `truncated` says whether either was cut (the
 * text then holds a `[... N bytes cut ...]` marker between the head and the tail).
 *
 * @since 0.1.0
 * @category models
 */
export const ExecResult = Schema.Struct({
  /** The exit code, or null when the process was ended by a signal. */
  exitCode: Schema.NullOr(Schema.Number),
  /** The signal that ended the process, if one did (`SIGTERM`, `SIGKILL` after a timeout). */
  signal: Schema.optional(Schema.String),
  timedOut: Schema.Boolean,
  stdout: Schema.String,
  stderr: Schema.String,
  truncated: Schema.Boolean,
  durationMs: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type ExecResult = typeof ExecResult.Type

/**
 * One entry of a folder listing. Symlinks are reported as `symlink`, not followed; `size` is
 * in bytes.
 *
 * @since 0.1.0
 * @category models
 */
export const Entry = Schema.Struct({
  name: Schema.String,
  type: Schema.Literal("file", "directory", "symlink", "other"),
  size: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type Entry = typeof Entry.Type

/**
 * Per-call options of `exec`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecOptions {
  /** Overrides the sandbox's default timeout for this command. */
  readonly timeout?: Duration.DurationInput
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Sandbox extends Context.Tag("dabgent/Sandbox")<
  Sandbox,
  {
    /** The real path of the working folder; every path below is resolved inside it. */
    readonly root: string
    readonly kind: "local" | "bwrap"
    /**
     * Runs `bash -c command` in the root with a minimal environment. At the timeout the whole
     * process group gets SIGTERM, then SIGKILL after the grace; background jobs it leaves are
     * stopped the same way when it exits.
     */
    readonly exec: (command: string, options?: ExecOptions) => Effect.Effect<ExecResult, ExecError>
    /** A file as UTF-8; a large one comes back as head and tail around a cut marker. */
    readonly readFile: (path: string) => Effect.Effect<string, PathOutsideSandbox | SandboxIOError>
    /** Writes UTF-8 text, creating parent folders. */
    readonly writeFile: (
      path: string,
      content: string
    ) => Effect.Effect<void, PathOutsideSandbox | SandboxIOError>
    /** Removes a file, symlink or folder (recursively); refuses the root itself. */
    readonly remove: (path: string) => Effect.Effect<void, PathOutsideSandbox | SandboxIOError>
    /** The entries of a folder (the root by default), sorted by name. */
    readonly list: (path?: string) => Effect.Effect<ReadonlyArray<Entry>, PathOutsideSandbox | SandboxIOError>
  }
>() {}

/**
 * Limits shared by both layers.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default command timeout. Default 120 seconds. */
  readonly timeout?: Duration.DurationInput
  /** Between SIGTERM and SIGKILL when a command is stopped. Default 2 seconds. */
  readonly killGrace?: Duration.DurationInput
  /** Bytes kept per output stream (half head, half tail). Default 64 KiB. */
  readonly maxOutputBytes?: number
  /** Bytes `readFile` returns at most (half head, half tail). Default 256 KiB. */
  readonly maxReadBytes?: number
  /** Extra environment variables for commands, on top of PATH, HOME, LANG and TERM. */
  readonly env?: Readonly<Record<string, string>>
}

/**
 * Options of the bubblewrap layer.
 *
 * @since 0.1.0
 * @category models
 */
export interface BwrapOptions extends Options {
  /** Share the host's network. Default false: only an empty loopback inside. */
  readonly allowNetwork?: boolean
  /** Further host folders visible read-only (a toolchain outside /usr, /opt, ...). */
  readonly readOnlyPaths?: ReadonlyArray<string>
  /** The bubblewrap binary. Default `bwrap` on the PATH. */
  readonly bwrapPath?: string
}

/**
 * Options of `layerAuto`.
 *
 * @since 0.1.0
 * @category models
 */
export interface AutoOptions extends BwrapOptions {
  /** `local` skips bubblewrap; `bwrap` (the default) uses it when it works here. */
  readonly prefer?: "bwrap" | "local"
  /** Told in one line when bubblewrap was preferred but is unavailable. Default: a warning log. */
  readonly onFallback?: (notice: string) => Effect.Effect<void>
}

/**
 * The defaults: 120 s timeout, 2 s kill grace, 64 KiB per output stream, 256 KiB per file read.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  timeout: Duration.seconds(120),
  killGrace: Duration.seconds(2),
  maxOutputBytes: 64 * 1024,
  maxReadBytes: 256 * 1024
} as const

/** The only variables a command sees: nothing of the parent's secrets (API keys, database URLs). */
const commandEnv = (
  root: string,
  extra: Readonly<Record<string, string>> | undefined
): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
  HOME: root,
  LANG: "C.UTF-8",
  TERM: "dumb",
  ...extra
})

/** Creates the folder when missing and finds its real path. */
const openRoot = (dir: string): Effect.Effect<Root, SandboxIOError> =>
  Effect.tryPromise({
    try: async () => {
      const given = path.resolve(dir)
      await fs.mkdir(given, { recursive: true })
      return { given, real: await fs.realpath(given) }
    },
    catch: (error) => ioError(dir, "open sandbox root", error)
  })

type Wrap = (root: string, command: string) => { readonly file: string; readonly args: ReadonlyArray<string> }

const makeWith = (
  dir: string,
  kind: "local" | "bwrap",
  options: Options,
  wrap: Wrap
): Effect.Effect<Sandbox["Type"], SandboxIOError> =>
  Effect.map(openRoot(dir), (root) => {
    const env = commandEnv(root.real, options.env)
    const timeout = Duration.decode(options.timeout ?? defaults.timeout)
    const killGrace = Duration.decode(options.killGrace ?? defaults.killGrace)
    const maxOutputBytes = options.maxOutputBytes ?? defaults.maxOutputBytes
    const maxReadBytes = options.maxReadBytes ?? defaults.maxReadBytes
    return Sandbox.of({
      root: root.real,
      kind,
      exec: (command, execOptions) =>
        run({
          ...wrap(root.real, command),
          cwd: root.real,
          env,
          command,
          timeout: execOptions?.timeout === undefined ? timeout : Duration.decode(execOptions.timeout),
          killGrace,
          maxOutputBytes
        }).pipe(
          Effect.map(({ signal, ...outcome }): ExecResult =>
            signal === null ? outcome : { ...outcome, signal }
          )
        ),
      readFile: (file) => Files.readFile(root, file, maxReadBytes),
      writeFile: (file, content) => Files.writeFile(root, file, content),
      remove: (file) => Files.remove(root, file),
      list: (folder) => Files.list(root, folder ?? ".")
    })
  })

/**
 * A sandbox on the host: file paths are confined to `dir` (created when missing), commands run
 * there without isolation. Use it where bubblewrap is unavailable, or in tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeLocal = (
  dir: string,
  options: Options = {}
): Effect.Effect<Sandbox["Type"], SandboxIOError> =>
  makeWith(dir, "local", options, (_root, command) => ({ file: "bash", args: ["-c", command] }))

const bwrapConfig = (options: BwrapOptions): BwrapConfig => ({
  allowNetwork: options.allowNetwork ?? false,
  readOnlyPaths: options.readOnlyPaths ?? []
})

/**
 * Why bubblewrap cannot be used here, or nothing when it can: runs `true` inside the same
 * setup the sandbox uses.
 */
const checkBwrap = (options: BwrapOptions): Effect.Effect<void, SandboxUnavailable> =>
  probe(options.bwrapPath ?? "bwrap", bwrapConfig(options)).pipe(
    Effect.mapError((reason) => new SandboxUnavailable({ kind: "bwrap", reason }))
  )

/**
 * Whether bubblewrap is installed and can create its namespaces on this machine.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bwrapAvailable: Effect.Effect<boolean> = checkBwrap({}).pipe(
  Effect.as(true),
  Effect.orElseSucceed(() => false)
)

/**
 * A sandbox whose commands run inside bubblewrap: the system folders read-only, `dir` writable
 * at its own path, fresh /tmp, no network unless `allowNetwork`. Fails with
 * `SandboxUnavailable` when bubblewrap does not work here.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeBwrap = (
  dir: string,
  options: BwrapOptions = {}
): Effect.Effect<Sandbox["Type"], SandboxIOError | SandboxUnavailable> =>
  Effect.zipRight(
    checkBwrap(options),
    makeWith(dir, "bwrap", options, (root, command) => ({
      file: options.bwrapPath ?? "bwrap",
      args: [...bwrapArgs(bwrapConfig(options), root), "bash", "-c", command]
    }))
  )

/**
 * @since 0.1.0
 * @category layers
 */
export const layerLocal = (dir: string, options?: Options): Layer.Layer<Sandbox, SandboxIOError> =>
  Layer.effect(Sandbox, makeLocal(dir, options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layerBwrap = (
  dir: string,
  options?: BwrapOptions
): Layer.Layer<Sandbox, SandboxIOError | SandboxUnavailable> => Layer.effect(Sandbox, makeBwrap(dir, options))

/**
 * Bubblewrap when it works here (unless `prefer: "local"`), otherwise the local sandbox with a
 * one-line notice through `onFallback`. This is what `--sandbox` defaults to.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeAuto = (
  dir: string,
  options: AutoOptions = {}
): Effect.Effect<Sandbox["Type"], SandboxIOError> =>
  Effect.gen(function* () {
    if (options.prefer === "local") return yield* makeLocal(dir, options)
    const bwrap = yield* Effect.either(makeBwrap(dir, options))
    if (Either.isRight(bwrap)) return bwrap.right
    if (bwrap.left._tag === "SandboxIOError") return yield* Effect.fail(bwrap.left)
    const notice = `sandbox: bubblewrap unavailable (${bwrap.left.reason}); running commands without isolation in ${dir}`
    yield* (options.onFallback ?? Effect.logWarning)(notice)
    return yield* makeLocal(dir, options)
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layerAuto = (dir: string, options?: AutoOptions): Layer.Layer<Sandbox, SandboxIOError> =>
  Layer.effect(Sandbox, makeAuto(dir, options))
