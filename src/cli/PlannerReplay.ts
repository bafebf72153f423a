/**
 * Folding a planner aggregate for `replay`. `SessionReplay` loads this module with a dynamic
 * `import()` only when a session has `planner.*` events, so replaying a thread-only session never
 * loads the planner.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as EventCodec from "../events/EventCodec.js"
import { PlannerEvents } from "../events/PlannerEvents.js"
import * as Handler from "../Handler.js"
import { plannerHandler } from "../planner/PlannerHandler.js"
import type { PlannerState } from "../planner/PlannerState.js"
import type { DecodeError } from "../store/EventStoreError.js"
import type { StoredEvent } from "../store/StoredEvent.js"

const codec = EventCodec.make(PlannerEvents)

/**
 * Decodes one planner aggregate's stored events and folds them with the planner handler.
 *
 * @since 0.1.0
 * @category folding
 */
export const fold = (events: ReadonlyArray<StoredEvent>): Effect.Effect<PlannerState, DecodeError> =>
  Effect.map(
    Effect.forEach(events, (stored) => codec.decode(stored)),
    (decoded) =>
      Handler.fold(
        plannerHandler,
        decoded.map((d) => d.event)
      )
  )
