/**
 * How workers are kept running: a transient failure (the store lost its connection) restarts a
 * worker with a jittered exponential schedule; a damaged event or a defect is fatal and ends
 * the run. Shared by thread runs and planning runs; loads nothing of the planner.
 *
 * @since 0.1.0
 */
import type * as LanguageModel from "@effect/ai/LanguageModel"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Sandbox } from "../sandbox/Sandbox.js"
import { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import type { Validator } from "../tools/Validator.js"
import type { ThreadState } from "../thread/ThreadState.js"
import type * as AggregateActors from "../workers/internal/AggregateActors.js"
import * as LlmWorker from "../workers/LlmWorker.js"
import * as ThreadActor from "../workers/ThreadActor.js"
import type { WorkerScope } from "../workers/ThreadSource.js"
import * as ToolWorker from "../workers/ToolWorker.js"

/**
 * Restarts `worker` after a `StoreError` (backoff from 200 ms, up to 2 minutes in all).
 *
 * @since 0.1.0
 * @category supervision
 */
export const supervised = <R>(
  name: string,
  worker: Effect.Effect<void, StoreError | DecodeError, R>
): Effect.Effect<void, StoreError | DecodeError, R> =>
  worker.pipe(
    Effect.tapErrorCause((cause) => Effect.logWarning(`${name} stopped`, Cause.pretty(cause))),
    Effect.retry({
      while: (error) => error._tag === "StoreError",
      schedule: Schedule.jittered(Schedule.exponential("200 millis", 2)).pipe(Schedule.upTo("2 minutes"))
    }),
    Effect.withSpan(`worker.${name}`)
  )

/**
 * The thread workers (LLM and tools) for a scope, supervised, forked into the current scope. Both
 * run from one loop (`ThreadActor.runBoth`): one subscription and one fold per thread, not two.
 * `onSettled` sees each thread's state after each append (the run decides on it; it needs no
 * subscription of its own). After a restart the loop catches up again: older states come again.
 *
 * @since 0.1.0
 * @category supervision
 */
export const startThreadWorkers = (
  scope: WorkerScope,
  onSettled?: (snapshot: AggregateActors.Snapshot<ThreadState>) => void
): Effect.Effect<
  Fiber.RuntimeFiber<void, StoreError | DecodeError>,
  never,
  EventStore | LanguageModel.LanguageModel | Sandbox | Validator | Scope.Scope
> =>
  Effect.forkScoped(
    supervised(
      "ThreadWorkers",
      Effect.gen(function* () {
        const store = yield* EventStore
        const llm = yield* LlmWorker.actor(scope)
        const tools = yield* ToolWorker.actor(scope)
        yield* ThreadActor.runBoth(store, scope, llm, tools, onSettled)
      })
    ).pipe(Effect.scoped)
  )
