/**
 * The `planner.*` event family (loaded only through `dabgent/planner`).
 *
 * @since 0.1.0
 */
import { PlannerEvent } from "../planner/PlannerEvent.js"
import * as EventFamily from "./EventFamily.js"

/**
 * @since 0.1.0
 * @category families
 */
export const PlannerEvents = EventFamily.make("planner", PlannerEvent)
