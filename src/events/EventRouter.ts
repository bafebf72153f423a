/**
 * The one place that knows every event family: their codec, and which workers each family is
 * routed to. Loaded by planning code and tools that read whole logs; thread-only programs use
 * the `thread.*` family alone (`ThreadEvents`) and never load the planner's.
 *
 * @since 0.1.0
 */
import type { EventStore } from "../store/EventStore.js"
import * as EventCodec from "./EventCodec.js"
import * as EventLog from "./EventLog.js"
import { PlannerEvents } from "./PlannerEvents.js"
import { RouteEvents, SessionEvents } from "./SessionEvents.js"
import { ThreadEvents } from "./ThreadEvents.js"

/**
 * Every family a dabgent log holds.
 *
 * @since 0.1.0
 * @category families
 */
export const families = [ThreadEvents, PlannerEvents, SessionEvents, RouteEvents] as const

/**
 * Any stored event, decoded: `{ family, event, stored }`, narrowed by `family`.
 *
 * @since 0.1.0
 * @category models
 */
export type SystemEvent = EventCodec.Decoded<(typeof families)[number]>

/**
 * The codec of every family.
 *
 * @since 0.1.0
 * @category codec
 */
export const codec = EventCodec.make(...families)

/**
 * The workers of a dabgent process.
 *
 * @since 0.1.0
 * @category routing
 */
export type WorkerName = "LlmWorker" | "ToolWorker" | "PlannerWorker"

/**
 * Which workers each family is routed to. The planner worker follows task threads to report
 * their end to the planner; `session.*` and `route.*` are records for people and `resume`.
 *
 * @since 0.1.0
 * @category routing
 */
export const routes: { readonly [F in (typeof families)[number]["name"]]: ReadonlyArray<WorkerName> } = {
  thread: ["LlmWorker", "ToolWorker", "PlannerWorker"],
  planner: ["PlannerWorker"],
  session: [],
  route: []
}

/**
 * The workers a stored event type is routed to (none for an unknown family).
 *
 * @since 0.1.0
 * @category routing
 */
export const route = (type: string): ReadonlyArray<WorkerName> => {
  const family = families.find((f) => type.startsWith(`${f.name}.`))
  return family === undefined ? [] : routes[family.name]
}

/**
 * The codec of the families routed to the planner worker.
 *
 * @since 0.1.0
 * @category codec
 */
export const plannerCodec = EventCodec.make(PlannerEvents, ThreadEvents)

/**
 * The typed log of what the planner worker consumes.
 *
 * @since 0.1.0
 * @category codec
 */
export const plannerLog = (store: EventStore["Type"]) => EventLog.make(store, plannerCodec)

/**
 * The typed log of every family (for tools that show or copy whole sessions).
 *
 * @since 0.1.0
 * @category codec
 */
export const log = (store: EventStore["Type"]) => EventLog.make(store, codec)
