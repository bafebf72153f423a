/**
 * Confinement of user paths to a sandbox root: lexical (`..`, absolute paths) and physical
 * (symlinks, followed one hop at a time, including dangling ones a write would create a file
 * through).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { PathOutsideSandbox, SandboxIOError } from "../SandboxError.js"

/** More symlink hops than this is a loop, as the kernel's own limit says. */
const maxSymlinkHops = 40

/** A sandbox root as the user named it and as the file system resolves it. */
export interface Root {
  /** The real path: no symlinks. Every confined path starts with it. */
  readonly real: string
  /** The absolute path as given (may differ from `real` when it goes through a symlink). */
  readonly given: string
}

const isWithin = (root: string, candidate: string): boolean =>
  candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep)

const errorCode = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined
  return typeof error.code === "string" ? error.code : undefined
}

const reasons: Record<string, string> = {
  ENOENT: "not found",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EEXIST: "already exists",
  ENOTEMPTY: "directory not empty",
  ELOOP: "too many levels of symbolic links",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  ENAMETOOLONG: "name too long",
  ENXIO: "not a regular file"
}

/** A failed system call as a `SandboxIOError` naming the user's path. */
export const ioError = (userPath: string, operation: string, error: unknown): SandboxIOError => {
  const code = errorCode(error)
  const reason =
    (code === undefined ? undefined : reasons[code]) ??
    (error instanceof Error ? error.message : String(error))
  return new SandboxIOError(
    code === undefined ? { path: userPath, operation, reason } : { path: userPath, operation, reason, code }
  )
}

class Outside {
  readonly _tag = "Outside"
}

/**
 * The real path of `absolute` (every existing symlink resolved, the missing rest appended),
 * or `Outside` when it or any symlink on the way leaves the root.
 */
const resolveReal = async (root: string, absolute: string, hops: number): Promise<string | Outside> => {
  if (!isWithin(root, absolute)) return new Outside()
  try {
    const real = await fs.realpath(absolute)
    return isWithin(root, real) ? real : new Outside()
  } catch (error) {
    const code = errorCode(error)
    if (code !== "ENOENT" && code !== "ENOTDIR") throw error
  }
  // Something on the way is missing, or `absolute` is a dangling symlink.
  if (absolute === root) return absolute
  const parent = await resolveReal(root, path.dirname(absolute), hops)
  if (parent instanceof Outside) return parent
  const here = path.join(parent, path.basename(absolute))
  const stats = await fs.lstat(here).catch(() => undefined)
  if (stats === undefined || !stats.isSymbolicLink()) return here
  if (hops >= maxSymlinkHops) throw Object.assign(new Error("too many symlinks"), { code: "ELOOP" })
  return resolveReal(root, path.resolve(parent, await fs.readlink(here)), hops + 1)
}

/** The user's path made absolute against the real root, or `Outside`. Purely lexical. */
const lexical = (root: Root, userPath: string): string | Outside => {
  if (!path.isAbsolute(userPath)) return path.resolve(root.real, userPath)
  const absolute = path.resolve(userPath)
  if (isWithin(root.real, absolute)) return absolute
  if (isWithin(root.given, absolute)) return path.join(root.real, path.relative(root.given, absolute))
  return new Outside()
}

/**
 * The real path behind `userPath`, confined to the root. With `followLast: false` the last
 * component is not followed (so `remove` deletes a symlink, not what it points to).
 */
export const confine = (
  root: Root,
  userPath: string,
  operation: string,
  options: { readonly followLast: boolean } = { followLast: true }
): Effect.Effect<string, PathOutsideSandbox | SandboxIOError> =>
  Effect.tryPromise({
    try: async () => {
      const absolute = lexical(root, userPath)
      if (absolute instanceof Outside) return absolute
      if (options.followLast || absolute === root.real) return resolveReal(root.real, absolute, 0)
      const parent = await resolveReal(root.real, path.dirname(absolute), 0)
      return parent instanceof Outside ? parent : path.join(parent, path.basename(absolute))
    },
    catch: (error) => ioError(userPath, operation, error)
  }).pipe(
    Effect.flatMap((resolved) =>
      resolved instanceof Outside
        ? Effect.fail(new PathOutsideSandbox({ path: userPath, root: root.given }))
        : Effect.succeed(resolved)
    )
  )
