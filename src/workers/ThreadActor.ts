/**
 * What a thread worker does, apart from the loop that feeds it: whether a thread's state owes an
 * action, and the action. The LLM and tool workers are each one; `both` serves the two from one
 * loop, so a thread run folds its events once and holds one subscription instead of two.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import { threadHandler } from "../thread/ThreadHandler.js"
import { initialThreadState, type ThreadState } from "../thread/ThreadState.js"
import * as AggregateActors from "./internal/AggregateActors.js"
import { sources, type WorkerScope } from "./ThreadSource.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ThreadActor<R> {
  /** The span prefix of its actions (`<name>.step`). */
  readonly name: string
  readonly owes: (snapshot: AggregateActors.Snapshot<ThreadState>) => boolean
  readonly act: (
    snapshot: AggregateActors.Snapshot<ThreadState>
  ) => Effect.Effect<AggregateActors.CaughtUp<ThreadState> | number, never, R>
}

/**
 * One actor that does what `first` owes, else what `second` owes. The LLM worker acts on a
 * thread in `Agent` and the tool worker on one in `Tools` or `UserWait`, so they never owe at
 * the same time and serving both from one loop changes no decision.
 *
 * @since 0.1.0
 * @category combinators
 */
export const both = <R1, R2>(first: ThreadActor<R1>, second: ThreadActor<R2>): ThreadActor<R1 | R2> => ({
  name: `${first.name}+${second.name}`,
  owes: (snapshot) => first.owes(snapshot) || second.owes(snapshot),
  act: (snapshot) => (first.owes(snapshot) ? first.act(snapshot) : second.act(snapshot))
})

const isTerminal = (state: ThreadState) => state.status === "Done" || state.status === "Failed"

/**
 * Runs `actor` over the threads of `scope` until interrupted (catch-up, then live). Each action
 * is a span named after the actor that owes it.
 *
 * @since 0.1.0
 * @category running
 */
export const run = <R>(
  store: EventStore["Type"],
  scope: WorkerScope,
  actor: ThreadActor<R>,
  observe: {
    readonly nameOf?: (snapshot: AggregateActors.Snapshot<ThreadState>) => string
    /** Each thread's state after each append the loop applied (see `AggregateActors.onSettled`). */
    readonly onSettled?: (snapshot: AggregateActors.Snapshot<ThreadState>) => void
  } = {}
): Effect.Effect<void, StoreError | DecodeError, R | Scope.Scope> =>
  AggregateActors.run({
    ...sources(store, scope),
    name: observe.nameOf ?? actor.name,
    ...(observe.onSettled === undefined ? {} : { onSettled: observe.onSettled }),
    initial: initialThreadState,
    apply: threadHandler.apply,
    isTerminal,
    owes: actor.owes,
    act: actor.act
  })

/**
 * Runs two actors from one loop (see `both`); each action's span keeps the name of the actor
 * that took it.
 *
 * @since 0.1.0
 * @category running
 */
export const runBoth = <R1, R2>(
  store: EventStore["Type"],
  scope: WorkerScope,
  first: ThreadActor<R1>,
  second: ThreadActor<R2>,
  onSettled?: (snapshot: AggregateActors.Snapshot<ThreadState>) => void
): Effect.Effect<void, StoreError | DecodeError, R1 | R2 | Scope.Scope> =>
  run(store, scope, both(first, second), {
    nameOf: (snapshot) => (first.owes(snapshot) ? first.name : second.name),
    ...(onSettled === undefined ? {} : { onSettled })
  })
