/**
 * The one interface every aggregate implements: a pure decider.
 *
 * `process` decides which events a command produces (or why it is rejected), `apply` evolves the
 * state by one event, and `fold` rebuilds a state from a history. Nothing here performs I/O:
 * clocks, ids, model output and tool results arrive inside commands.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"

/**
 * A pure aggregate. `process` has no requirements (`R = never`): it cannot reach a service,
 * so it cannot read a clock, a file or the network. `apply` must be total and deterministic.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handler<State, Command, Event, Err> {
  readonly initial: State
  readonly process: (state: State, command: Command) => Effect.Effect<ReadonlyArray<Event>, Err>
  readonly apply: (state: State, event: Event) => State
}

/**
 * Helpers to name a handler's type parameters.
 *
 * @since 0.1.0
 * @category models
 */
export declare namespace Handler {
  export type Any = Handler<any, any, any, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  export type State<H> = H extends Handler<infer S, infer _C, infer _E, infer _Err> ? S : never
  export type Command<H> = H extends Handler<infer _S, infer C, infer _E, infer _Err> ? C : never
  export type Event<H> = H extends Handler<infer _S, infer _C, infer E, infer _Err> ? E : never
  export type Error<H> = H extends Handler<infer _S, infer _C, infer _E, infer Err> ? Err : never
}

/**
 * Builds a handler; exists so the type parameters are inferred from the three members.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <State, Command, Event, Err>(
  handler: Handler<State, Command, Event, Err>
): Handler<State, Command, Event, Err> => handler

/**
 * Rebuilds a state by applying events in order, starting from `from` (the handler's initial
 * state by default). Folding the same events always gives the same state.
 *
 * @since 0.1.0
 * @category folding
 */
export const fold = <State, Command, Event, Err>(
  handler: Handler<State, Command, Event, Err>,
  events: Iterable<Event>,
  from: State = handler.initial
): State => {
  let state = from
  for (const event of events) state = handler.apply(state, event)
  return state
}

/**
 * Runs `process` and applies the new events: the state a writer holds after the command is
 * accepted, without a second fold of the history.
 *
 * @since 0.1.0
 * @category folding
 */
export const decide = <State, Command, Event, Err>(
  handler: Handler<State, Command, Event, Err>,
  state: State,
  command: Command
): Effect.Effect<{ readonly events: ReadonlyArray<Event>; readonly state: State }, Err> =>
  Effect.map(handler.process(state, command), (events) => ({ events, state: fold(handler, events, state) }))
