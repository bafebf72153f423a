/**
 * The `dabgent` command line.
 *
 * Exit codes: 0 done, 1 the work failed, 2 usage or configuration error, 3 waiting for an answer,
 * 130 interrupted.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { createRequire } from "node:module"
import { answer } from "./AnswerCommand.js"
import { events } from "./EventsCommand.js"
import { fork } from "./ForkCommand.js"
import { coordinate, plan } from "./PlanCommands.js"
import { replay } from "./ReplayCommand.js"
import { resume } from "./ResumeCommand.js"
import { run } from "./RunCommand.js"
import * as RunEnvironment from "./RunEnvironment.js"
import { sessions } from "./SessionsCommand.js"
import { thread } from "./ThreadCommand.js"
import { ui } from "./UiCommand.js"
import { worker } from "./WorkerCommand.js"
import { ExitCode } from "./ExitCode.js"

const version = (createRequire(import.meta.url)("../../package.json") as { version: string }).version

const dabgent = Command.make("dabgent").pipe(
  Command.withDescription("An event-sourced runtime for LLM coding agents."),
  Command.withSubcommands([
    run,
    thread,
    plan,
    coordinate,
    answer,
    resume,
    sessions,
    events,
    replay,
    fork,
    worker,
    ui
  ])
)

const cli = Command.run(dabgent, { name: "dabgent", version })

const exitCodeOf = (exit: Exit.Exit<unknown, unknown>): number => {
  if (Exit.isSuccess(exit)) return 0
  if (Cause.isInterruptedOnly(exit.cause)) return 130
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    if (failure.value instanceof ExitCode) return failure.value.code
    if (ValidationError.isValidationError(failure.value)) return 2
    // Configuration and store errors: the command could not start its work.
    return 2
  }
  return 1
}

const report = (cause: Cause.Cause<unknown>) =>
  Effect.gen(function* () {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure) && ValidationError.isValidationError(failure.value)) return // @effect/cli printed it
    if (Option.isSome(failure) && failure.value instanceof ExitCode) {
      if (failure.value.message !== "") yield* Console.error(failure.value.message)
      return
    }
    if (Cause.isInterruptedOnly(cause)) return
    const error = Option.getOrUndefined(failure)
    yield* Console.error(
      `dabgent: ${error instanceof Error ? error.message : Cause.pretty(cause, { renderErrorCause: true })}`
    )
  })

cli(process.argv).pipe(
  Effect.provide(RunEnvironment.telemetryLayer),
  Effect.tapErrorCause(report),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(exitCodeOf(exit))
  })
)
