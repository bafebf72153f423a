/**
 * Runs the workers of a planning session under one scope: the LLM, tool and planner workers are
 * forked with `forkScoped`, a transient failure (the store dropped a connection) restarts the
 * worker with a jittered exponential schedule, and anything else ends the run. Closing the scope
 * (the session ended, or Ctrl-C) interrupts them all; every write was an append, so the log is
 * consistent and `resume` continues it.
 *
 * @since 0.1.0
 */
import type * as LanguageModel from "@effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as EventCodec from "../events/EventCodec.js"
import * as EventLog from "../events/EventLog.js"
import { PlannerEvents } from "../events/PlannerEvents.js"
import type { LlmPlanner } from "../planner/LlmPlanner.js"
import type { Attachment } from "../planner/Plan.js"
import { Initialize } from "../planner/PlannerCommand.js"
import { plannerHandler } from "../planner/PlannerHandler.js"
import { initialPlannerState } from "../planner/PlannerState.js"
import type { Sandbox } from "../sandbox/Sandbox.js"
import { EventStore } from "../store/EventStore.js"
import type { ConcurrencyError, DecodeError, StoreError } from "../store/EventStoreError.js"
import type { Validator } from "../tools/Validator.js"
import * as LlmWorker from "../workers/LlmWorker.js"
import { supervised } from "./Supervision.js"
import * as PlannerWorker from "../workers/PlannerWorker.js"
import * as ToolWorker from "../workers/ToolWorker.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface CoordinatorOptions {
  readonly streamId: string
  readonly sessionId: string
  readonly maxStepsPerTask: number
  readonly ask: (question: PlannerWorker.Question) => Effect.Effect<Option.Option<string>>
}

/**
 * Forks the three workers for one session; the returned fiber fails when one of them fails for
 * good. They stop when the enclosing scope closes.
 *
 * @since 0.1.0
 * @category running
 */
export const start = (
  options: CoordinatorOptions
): Effect.Effect<
  Fiber.Fiber<void, StoreError | DecodeError>,
  never,
  EventStore | LanguageModel.LanguageModel | Sandbox | Validator | LlmPlanner | Scope.Scope
> => {
  const scope = { streamId: options.streamId, sessionId: options.sessionId }
  return Effect.forkScoped(
    Effect.all(
      [
        supervised("LlmWorker", LlmWorker.run(scope)),
        supervised("ToolWorker", ToolWorker.run(scope)),
        supervised(
          "PlannerWorker",
          PlannerWorker.run({ ...scope, maxStepsPerTask: options.maxStepsPerTask, ask: options.ask })
        )
      ],
      { concurrency: "unbounded", discard: true }
    ).pipe(Effect.scoped)
  )
}

/**
 * Records the start of a planning session: the input, its attachments and the parallel limit.
 *
 * @since 0.1.0
 * @category running
 */
export const initializePlanning = (options: {
  readonly streamId: string
  readonly sessionId: string
  readonly input: string
  readonly attachments: ReadonlyArray<Attachment>
  readonly maxParallel: number
}): Effect.Effect<void, StoreError | ConcurrencyError, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const events = yield* Effect.orDie(
      plannerHandler.process(
        initialPlannerState,
        new Initialize({
          input: options.input,
          attachments: options.attachments,
          maxParallel: options.maxParallel
        })
      )
    )
    yield* EventLog.make(store, EventCodec.make(PlannerEvents))
      .append(PlannerEvents, {
        streamId: options.streamId,
        aggregateId: options.sessionId,
        events,
        expectedVersion: 0,
        metadata: { correlationId: options.sessionId }
      })
      .pipe(Effect.catchTag("ParseError", Effect.die))
  })
