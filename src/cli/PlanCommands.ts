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
import { newPlanSessionId } from "../coordinator/Planning.js"
import * as Shared from "./options.js"
import * as RunPlan from "./RunPlan.js"

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
  prompt: Args.text({ name: "input" }).pipe(Args.withDescription("What to plan (and do).")),
  ...Shared.runOptions,
  parallel
}

type Parsed = Shared.RunOptions & { readonly parallel: number }

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
  ...Shared.runSettings(options),
  maxParallel: options.parallel,
  start
})

/**
 * @since 0.1.0
 * @category commands
 */
export const plan = Command.make("plan", common, (options) =>
  Effect.suspend(() => RunPlan.run(planConfig(options, { _tag: "Plan", input: options.prompt })))
).pipe(
  Command.withDescription(
    "Split the input into a task graph and store it; nothing runs (resume executes it)."
  )
)

/**
 * @since 0.1.0
 * @category commands
 */
export const coordinate = Command.make("coordinate", { ...common, detach: Shared.detach }, (options) =>
  Effect.suspend(() => {
    const config = planConfig(options, { _tag: "Coordinate", input: options.prompt })
    return Effect.zipRight(
      Shared.checkDetach(options.detach, config.store),
      RunPlan.run({ ...config, detach: options.detach })
    )
  })
).pipe(
  Command.withDescription(
    "Plan the input and execute it: every task as an agent thread, independent tasks in parallel, questions to you."
  )
)
