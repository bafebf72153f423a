/**
 * A command's request to end the process with a specific code (and a message for stderr).
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * @since 0.1.0
 * @category errors
 */
export class ExitCode extends Data.TaggedError("ExitCode")<{
  readonly code: number
  readonly message: string
}> {}
