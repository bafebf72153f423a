/**
 * File operations on the host, confined to the sandbox root. Both layers use them: under
 * bubblewrap the root is bound at the same path, so host and sandbox see the same files.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { constants } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { PathOutsideSandbox } from "../SandboxError.js"
import { SandboxIOError } from "../SandboxError.js"
import { joinCut } from "./output.js"
import { confine, ioError, type Root } from "./paths.js"

/** One directory entry as `list` reports it. */
export interface EntryData {
  readonly name: string
  readonly type: "file" | "directory" | "symlink" | "other"
  readonly size: number
}

type FileError = PathOutsideSandbox | SandboxIOError

const attempt = <A>(
  userPath: string,
  operation: string,
  f: () => Promise<A>
): Effect.Effect<A, SandboxIOError> =>
  Effect.tryPromise({
    try: f,
    catch: (error) => (error instanceof SandboxIOError ? error : ioError(userPath, operation, error))
  })

/**
 * Reads a regular file as UTF-8. A file larger than `maxBytes` yields its first and last
 * `maxBytes / 2` bytes around a cut marker; the middle is never read into memory. FIFOs and
 * devices are refused rather than blocking.
 */
export const readFile = (root: Root, userPath: string, maxBytes: number): Effect.Effect<string, FileError> =>
  Effect.flatMap(confine(root, userPath, "readFile"), (real) =>
    attempt(userPath, "readFile", async () => {
      const handle = await fs.open(real, constants.O_RDONLY | constants.O_NONBLOCK)
      try {
        const stats = await handle.stat()
        if (stats.isDirectory()) throw notRegular(userPath, "is a directory", "EISDIR")
        if (!stats.isFile()) throw notRegular(userPath, "not a regular file")
        if (stats.size <= maxBytes) {
          // Read at most the size seen, even if the file grows meanwhile.
          const whole = Buffer.alloc(stats.size)
          const { bytesRead } = await handle.read(whole, 0, stats.size, 0)
          return whole.subarray(0, bytesRead).toString("utf8")
        }
        const headLength = Math.ceil(maxBytes / 2)
        const tailLength = Math.floor(maxBytes / 2)
        const head = Buffer.alloc(headLength)
        const tail = Buffer.alloc(tailLength)
        const headRead = await handle.read(head, 0, headLength, 0)
        const tailRead = await handle.read(tail, 0, tailLength, stats.size - tailLength)
        return joinCut(
          head.subarray(0, headRead.bytesRead),
          tail.subarray(0, tailRead.bytesRead),
          stats.size - headRead.bytesRead - tailRead.bytesRead
        )
      } finally {
        await handle.close()
      }
    })
  )

const notRegular = (userPath: string, reason: string, code?: string): SandboxIOError =>
  new SandboxIOError(
    code === undefined
      ? { path: userPath, operation: "readFile", reason }
      : { path: userPath, operation: "readFile", reason, code }
  )

/** Writes UTF-8 text, creating missing parent folders and replacing an existing file. */
export const writeFile = (root: Root, userPath: string, content: string): Effect.Effect<void, FileError> =>
  Effect.flatMap(confine(root, userPath, "writeFile"), (real) =>
    attempt(userPath, "writeFile", async () => {
      await fs.mkdir(path.dirname(real), { recursive: true })
      // O_NONBLOCK: a FIFO without a reader fails instead of hanging the call.
      const handle = await fs.open(
        real,
        constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NONBLOCK,
        0o644
      )
      try {
        await handle.writeFile(content, "utf8")
      } finally {
        await handle.close()
      }
    })
  )

/** Removes a file, a symlink (not its target) or a whole folder. The root itself is refused. */
export const remove = (root: Root, userPath: string): Effect.Effect<void, FileError> =>
  Effect.flatMap(confine(root, userPath, "remove", { followLast: false }), (real) =>
    real === root.real
      ? Effect.fail(
          new SandboxIOError({
            path: userPath,
            operation: "remove",
            reason: "refusing to remove the sandbox root"
          })
        )
      : attempt(userPath, "remove", async () => {
          await fs.lstat(real)
          await fs.rm(real, { recursive: true, force: false })
        })
  )

const entryType = (stats: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }) =>
  stats.isSymbolicLink() ? "symlink" : stats.isDirectory() ? "directory" : stats.isFile() ? "file" : "other"

/** The entries of a folder, sorted by name; symlinks are reported as such, not followed. */
export const list = (root: Root, userPath: string): Effect.Effect<ReadonlyArray<EntryData>, FileError> =>
  Effect.flatMap(confine(root, userPath, "list"), (real) =>
    attempt(userPath, "list", async () => {
      const names = (await fs.readdir(real)).sort()
      const entries: Array<EntryData> = []
      for (const name of names) {
        const stats = await fs.lstat(path.join(real, name)).catch(() => undefined)
        // An entry deleted while listing is simply not there any more.
        if (stats !== undefined) entries.push({ name, type: entryType(stats), size: stats.size })
      }
      return entries
    })
  )
