/**
 * The bubblewrap command line: a read-only view of the system folders, a writable sandbox
 * root at its real host path, fresh /dev, /proc and /tmp, and every namespace unshared
 * (network included unless allowed).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { run } from "./process.js"

/**
 * System folders bound read-only when they exist. The rest of the host (home folders, other
 * projects, /root, /work) stays invisible, so its secrets are out of reach even for reading.
 */
export const systemPaths: ReadonlyArray<string> = [
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/etc",
  "/opt"
]

/** How to wrap one command. */
export interface BwrapConfig {
  readonly allowNetwork: boolean
  /** Further host paths to bind read-only (a toolchain outside the system folders). */
  readonly readOnlyPaths: ReadonlyArray<string>
}

/**
 * The bwrap arguments up to and including `--`. With `root`, that folder is bound writable at
 * the same path and becomes the working directory.
 *
 * No `--new-session`: the command must stay in the process group the host signals on a timeout.
 * It is not needed against TTY injection either, because the host already starts bwrap in a new
 * session without a controlling terminal.
 */
export const bwrapArgs = (config: BwrapConfig, root?: string): ReadonlyArray<string> => {
  const args: Array<string> = []
  for (const dir of [...systemPaths, ...config.readOnlyPaths]) args.push("--ro-bind-try", dir, dir)
  if (config.allowNetwork) args.push("--ro-bind-try", "/run/systemd/resolve", "/run/systemd/resolve")
  args.push("--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp")
  if (root !== undefined) args.push("--bind", root, root, "--chdir", root)
  args.push("--unshare-all")
  if (config.allowNetwork) args.push("--share-net")
  args.push("--die-with-parent", "--cap-drop", "ALL", "--")
  return args
}

/**
 * Whether `bwrap` exists and can build this sandbox here (user namespaces allowed, /proc
 * mountable): runs `true` inside the same setup. Fails with the reason when it cannot.
 */
export const probe = (binary: string, config: BwrapConfig): Effect.Effect<void, string> =>
  run({
    file: binary,
    args: [...bwrapArgs(config), "true"],
    cwd: "/",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    command: `${binary} ... true`,
    timeout: Duration.seconds(10),
    killGrace: Duration.seconds(1),
    maxOutputBytes: 4096
  }).pipe(
    Effect.mapError((error) => error.reason),
    Effect.flatMap((outcome) =>
      outcome.exitCode === 0
        ? Effect.void
        : Effect.fail(
            outcome.stderr.trim().split("\n")[0] ||
              (outcome.timedOut ? "timed out" : `exited with ${outcome.exitCode ?? outcome.signal}`)
          )
    )
  )
