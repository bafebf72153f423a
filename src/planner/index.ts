/**
 * The planner: decomposes an input into a graph of tasks, dispatches them as their dependencies
 * complete, asks the user when a task needs it and records how the session ended. Entry point
 * `dabgent/planner`; thread-only programs never load it.
 *
 * @since 0.1.0
 */
export * from "./Plan.js"
export * from "./PlannerCommand.js"
export * from "./PlannerError.js"
export * from "./PlannerEvent.js"
export * from "./PlannerHandler.js"
export * from "./PlannerState.js"
export * as Attachments from "./Attachments.js"
export * as Compaction from "./Compaction.js"
export * as LlmPlanner from "./LlmPlanner.js"
export * as PlannerPrompts from "./PlannerPrompts.js"
export * as PlanParser from "./PlanParser.js"
