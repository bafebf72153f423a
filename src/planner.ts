/**
 * `dabgent/planner`: the opt-in planner (the TypeScript form of the original's `planner`
 * feature flag). Programs that only run threads never load it.
 *
 * @since 0.1.0
 */
export * from "./planner/index.js"
export { PlannerEvents } from "./events/PlannerEvents.js"
