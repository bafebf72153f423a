/**
 * The `session.*` event family: what a run was started with, so `resume` and `sessions` can
 * show and reuse it. Secrets are never part of it (keys stay in the environment).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as EventFamily from "./EventFamily.js"

/**
 * A session was created. `model` is the `provider:name` spec; `workdir` is absolute.
 *
 * @since 0.1.0
 * @category events
 */
export class SessionStarted extends Schema.TaggedClass<SessionStarted>()("SessionStarted", {
  mode: Schema.Literal("thread", "plan"),
  input: Schema.String,
  model: Schema.String,
  baseUrl: Schema.optionalWith(Schema.String, { exact: true }),
  workdir: Schema.String,
  sandbox: Schema.Literal("bwrap", "local"),
  allowNetwork: Schema.Boolean,
  validate: Schema.optionalWith(Schema.String, { exact: true }),
  maxSteps: Schema.Int.pipe(Schema.positive()),
  /** Submitted to a fleet (`--detach`): `dabgent worker` processes run it, not the submitter. */
  detached: Schema.optionalWith(Schema.Boolean, { exact: true })
}) {}

/**
 * A session was picked up again, possibly with other settings.
 *
 * @since 0.1.0
 * @category events
 */
export class SessionResumed extends Schema.TaggedClass<SessionResumed>()("SessionResumed", {
  model: Schema.String,
  baseUrl: Schema.optionalWith(Schema.String, { exact: true }),
  workdir: Schema.String,
  sandbox: Schema.Literal("bwrap", "local"),
  /** The fleet worker that picked it up (`name@host pid`), when a worker did. */
  worker: Schema.optionalWith(Schema.String, { exact: true })
}) {}

/**
 * `dabgent run` chose how to work on the input, and why (`by` the model, or by the heuristic
 * when the model could not say).
 *
 * @since 0.1.0
 * @category events
 */
export class RouteChosen extends Schema.TaggedClass<RouteChosen>()("RouteChosen", {
  mode: Schema.Literal("thread", "plan"),
  reason: Schema.String,
  by: Schema.Literal("model", "heuristic")
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export const SessionEvent = Schema.Union(SessionStarted, SessionResumed)

/**
 * @since 0.1.0
 * @category models
 */
export type SessionEvent = typeof SessionEvent.Type

/**
 * @since 0.1.0
 * @category families
 */
export const SessionEvents = EventFamily.make("session", SessionEvent)

/**
 * The aggregate that holds a session's own records.
 *
 * @since 0.1.0
 * @category naming
 */
export const sessionAggregateId = (sessionId: string): string => `${sessionId}/session`

/**
 * The `route.*` family: how `dabgent run` routed a session (kept apart from `session.*`, whose
 * readers expect run settings).
 *
 * @since 0.1.0
 * @category families
 */
export const RouteEvents = EventFamily.make("route", Schema.Union(RouteChosen))

/**
 * The aggregate that records how `dabgent run` routed a session.
 *
 * @since 0.1.0
 * @category naming
 */
export const routeAggregateId = (sessionId: string): string => `${sessionId}/route`

/**
 * The session an aggregate belongs to: `<session>` itself or `<session>/<part>`.
 *
 * @since 0.1.0
 * @category naming
 */
export const sessionOf = (aggregateId: string): string => {
  const slash = aggregateId.indexOf("/")
  return slash === -1 ? aggregateId : aggregateId.slice(0, slash)
}
