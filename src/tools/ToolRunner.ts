/**
 * Runs one tool call from the log in the sandbox. Every outcome is a result for the model:
 * an unknown tool, arguments that do not match the tool's Schema, a path outside the sandbox
 * or a failing command come back as an error result, never as a crash.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Entry, ExecResult } from "../sandbox/Sandbox.js"
import { Sandbox } from "../sandbox/Sandbox.js"
import * as Attributes from "../telemetry/Attributes.js"
import * as Metrics from "../telemetry/Metrics.js"
import * as AgentTools from "./AgentTools.js"
import { Validator } from "./Validator.js"

/**
 * What a tool call gives back to the model.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolOutcome {
  readonly result: string
  readonly isError: boolean
}

/**
 * A call as the model made it (the name may be unknown, the params anything).
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolCallRequest {
  readonly id: string
  readonly name: string
  readonly params: unknown
}

const ok = (result: string): ToolOutcome => ({ result, isError: false })
const failed = (result: string): ToolOutcome => ({ result, isError: true })

const formatExec = (result: ExecResult): ToolOutcome => {
  const status = result.timedOut
    ? `timed out after ${(result.durationMs / 1000).toFixed(1)} s and was killed`
    : result.exitCode === null
      ? `killed by ${result.signal ?? "a signal"}`
      : `exit code ${result.exitCode}`
  const parts = [status]
  if (result.stdout !== "") parts.push(`stdout:\n${result.stdout}`)
  if (result.stderr !== "") parts.push(`stderr:\n${result.stderr}`)
  return { result: parts.join("\n"), isError: result.exitCode !== 0 }
}

const toolNames = AgentTools.tools.map((tool) => tool.name).join(", ")
const knownTools = new Set(AgentTools.tools.map((tool): string => tool.name))

const invalidArguments = (name: string, error: ParseResult.ParseError): string =>
  `invalid arguments for ${name}: ${ParseResult.TreeFormatter.formatErrorSync(error)}`

/** Decodes the arguments with the tool's own Schema; a mismatch is a result the model can read. */
const argumentsOf = <A, I>(name: string, schema: Schema.Schema<A, I>, params: unknown) =>
  Schema.decodeUnknown(schema)(params).pipe(
    Effect.mapError((error) => new InvalidArguments({ reason: invalidArguments(name, error) }))
  )

class InvalidArguments extends Data.TaggedError("InvalidArguments")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

/**
 * The question of an `ask_user` call, or the error result for the model when its arguments do
 * not match the tool's Schema (the same result any other tool gives for bad arguments).
 *
 * @since 0.1.0
 * @category asking
 */
export const questionOf = (params: unknown): Either.Either<string, ToolOutcome> =>
  Schema.decodeUnknownEither(AgentTools.AskUser.parametersSchema)(params).pipe(
    Either.map((args) => args.question),
    Either.mapLeft((error) => failed(invalidArguments(AgentTools.AskUser.name, error)))
  )

const listing = (entries: ReadonlyArray<Entry>): string =>
  entries.length === 0
    ? "(empty)"
    : entries
        .map((e) =>
          e.type === "directory" ? `${e.name}/` : e.type === "symlink" ? `${e.name}@` : `${e.name}  ${e.size}`
        )
        .join("\n")

/**
 * Runs a call. Requires the sandbox and the validator (for `done`).
 *
 * @since 0.1.0
 * @category running
 */
export const run = (call: ToolCallRequest): Effect.Effect<ToolOutcome, never, Sandbox | Validator> =>
  Effect.gen(function* () {
    const sandbox = yield* Sandbox
    switch (call.name) {
      case AgentTools.Bash.name: {
        const args = yield* argumentsOf(call.name, AgentTools.Bash.parametersSchema, call.params)
        const timeout = args.timeout_s === undefined ? {} : { timeout: Duration.seconds(args.timeout_s) }
        const result = yield* sandbox.exec(args.command, timeout)
        yield* Effect.annotateCurrentSpan({
          [Attributes.tool.exitCode]: result.exitCode ?? -1,
          [Attributes.tool.timedOut]: result.timedOut
        })
        return formatExec(result)
      }
      case AgentTools.ReadFile.name: {
        const args = yield* argumentsOf(call.name, AgentTools.ReadFile.parametersSchema, call.params)
        return ok(yield* sandbox.readFile(args.path))
      }
      case AgentTools.WriteFile.name: {
        const args = yield* argumentsOf(call.name, AgentTools.WriteFile.parametersSchema, call.params)
        yield* sandbox.writeFile(args.path, args.content)
        return ok(`wrote ${Buffer.byteLength(args.content)} bytes to ${args.path}`)
      }
      case AgentTools.Ls.name: {
        const args = yield* argumentsOf(call.name, AgentTools.Ls.parametersSchema, call.params)
        return ok(listing(yield* sandbox.list(args.path)))
      }
      case AgentTools.Rm.name: {
        const args = yield* argumentsOf(call.name, AgentTools.Rm.parametersSchema, call.params)
        yield* sandbox.remove(args.path)
        return ok(`removed ${args.path}`)
      }
      case AgentTools.Done.name: {
        const args = yield* argumentsOf(call.name, AgentTools.Done.parametersSchema, call.params)
        const verdict = yield* Effect.flatMap(Validator, (validator) => validator.validate)
        return verdict.accepted ? ok(args.summary) : failed(verdict.output)
      }
      case AgentTools.AskUser.name:
        // The tool worker turns these calls into questions; there is nothing to run.
        return failed("ask_user is answered by the user, not run as a command")
      default:
        return failed(`unknown tool '${call.name}'. Available tools: ${toolNames}`)
    }
  }).pipe(
    Effect.catchAll((error) => Effect.succeed(failed(error.message))),
    Metrics.observeToolRun(knownTools.has(call.name) ? call.name : "unknown")
  )
