/**
 * The ways a sandbox operation can fail, as data.
 *
 * A command that exits non-zero or runs into its timeout is not among them: that is an
 * `ExecResult` the model needs to see.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A path resolved outside the sandbox root: through `..`, as an absolute path elsewhere, or
 * through a symlink whose target lies outside. Nothing was read or written.
 *
 * @since 0.1.0
 * @category errors
 */
export class PathOutsideSandbox extends Schema.TaggedError<PathOutsideSandbox>()("PathOutsideSandbox", {
  path: Schema.String,
  root: Schema.String
}) {
  override get message(): string {
    return `path ${this.path} is outside the sandbox root ${this.root}`
  }
}

/**
 * A file operation inside the sandbox failed. `operation` names it (`readFile`, `writeFile`,
 * `remove`, `list`), `reason` says why in words a model understands ("not found",
 * "is a directory", ...), `code` is the system error code when there is one.
 *
 * @since 0.1.0
 * @category errors
 */
export class SandboxIOError extends Schema.TaggedError<SandboxIOError>()("SandboxIOError", {
  path: Schema.String,
  operation: Schema.String,
  reason: Schema.String,
  code: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `${this.operation} ${this.path}: ${this.reason}`
  }
}

/**
 * A command could not be started at all (the shell or bubblewrap is missing, the root is
 * gone). A command that starts and then fails is a result, not this error.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExecError extends Schema.TaggedError<ExecError>()("ExecError", {
  command: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `cannot run ${JSON.stringify(this.command)}: ${this.reason}`
  }
}

/**
 * The requested isolation cannot be used on this machine (no `bwrap` binary, or user
 * namespaces are disabled). `layerAuto` falls back to the local sandbox instead.
 *
 * @since 0.1.0
 * @category errors
 */
export class SandboxUnavailable extends Schema.TaggedError<SandboxUnavailable>()("SandboxUnavailable", {
  kind: Schema.Literal("bwrap"),
  reason: Schema.String
}) {
  override get message(): string {
    return `the ${this.kind} sandbox is not available: ${this.reason}`
  }
}

/**
 * Every failure of a sandbox operation.
 *
 * @since 0.1.0
 * @category errors
 */
export type SandboxError = PathOutsideSandbox | SandboxIOError | ExecError
