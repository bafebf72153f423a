/**
 * `dabgent plan "<input>"` (record the task graph, run nothing) and `dabgent coordinate
 * "<input>"` (plan and execute, independent tasks in parallel, with a live view).
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { resolve } from "node:path"
import { newPlanSessionId } from "../coordinator/Planning.js"
import * as Shared from "./options.js"
import * as RunPlan from "./RunPlan.js"
import * as StoreLocation from "./StoreLocation.js"

/**
 * `--parallel N`: tasks running at once.
 *
 * @since 0.1.0
 * @category options
 */
export const parallel = Options.integer("parallel").pipe(
  Options.withDescription("How many independent tasks run at once (default 4)."),
  Options.withDefault(4)
)

const common = {
  input: Args.text({ name: "input" }).pipe(Args.withDescription("What to plan (and do).")),
  workdir: Shared.workdir,
  store: Shared.store,
  model: Shared.model,
  baseUrl: Shared.baseUrl,
  maxSteps: Shared.maxSteps,
  validate: Shared.validate,
  sandbox: Shared.sandbox,
  allowNetwork: Shared.allowNetwork,
  json: Shared.json,
  parallel,
  inputMode: Shared.input
}

type Parsed = {
  readonly input: string
  readonly workdir: Option.Option<string>
  readonly store: string
  readonly model: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly maxSteps: Option.Option<number>
  readonly validate: Option.Option<string>
  readonly sandbox: Option.Option<"bwrap" | "local">
  readonly allowNetwork: boolean
  readonly json: boolean
  readonly parallel: number
  readonly inputMode: Shared.InputMode
}

/**
 * The run settings of a new planning session.
 *
 * @since 0.1.0
 * @category running
 */
export const planConfig = (
  options: Parsed,
  start: RunPlan.PlanRunConfig["start"],
  sessionId = newPlanSessionId()
): RunPlan.PlanRunConfig => ({
  sessionId,
  store: StoreLocation.parse(options.store),
  model: options.model,
  baseUrl: options.baseUrl,
  workdir: resolve(Option.getOrElse(options.workdir, () => process.cwd())),
  sandbox: options.sandbox,
  allowNetwork: options.allowNetwork,
  validate: options.validate,
  maxSteps: Option.getOrElse(options.maxSteps, () => 50),
  json: options.json,
  maxParallel: options.parallel,
  input: options.inputMode,
  start
})

/**
 * @since 0.1.0
 * @category commands
 */
export const plan = Command.make("plan", common, (options) =>
  Effect.suspend(() => RunPlan.run(planConfig(options, { _tag: "Plan", input: options.input })))
).pipe(
  Command.withDescription(
    "Split the input into a task graph and store it; nothing runs (resume executes it)."
  )
)

/**
 * @since 0.1.0
 * @category commands
 */
export const coordinate = Command.make("coordinate", common, (options) =>
  Effect.suspend(() => RunPlan.run(planConfig(options, { _tag: "Coordinate", input: options.input })))
).pipe(
  Command.withDescription(
    "Plan the input and execute it: every task as an agent thread, independent tasks in parallel, questions to you."
  )
)
