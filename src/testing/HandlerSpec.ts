/**
 * Given / When / Then specifications for handlers.
 *
 * Given past events, when a command is processed, then exactly these new events (or this typed
 * error, or nothing). Each check is an `Effect` that fails with a `SpecFailure` describing the
 * difference, so it runs directly inside `it.effect`. The command is processed twice and both
 * answers must agree: a handler that reads a clock or random numbers is caught here.
 *
 * The steps are named `thenEvents` / `thenNothing` / `thenError` rather than `then`: an object
 * with a `then` method is a thenable, and test runners would try to await it.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { isDeepStrictEqual, inspect } from "node:util"
import * as Handler from "../Handler.js"

/**
 * A specification that did not hold.
 *
 * @since 0.1.0
 * @category errors
 */
export class SpecFailure extends Data.TaggedError("SpecFailure")<{ readonly message: string }> {}

/**
 * Matches an error by its class (`instanceof`) or by its `_tag`.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorMatcher<Err> = string | (abstract new (...args: never) => Err)

/**
 * The last step of a specification.
 *
 * @since 0.1.0
 * @category models
 */
export interface WhenStep<State, Event, Err> {
  /** The command produced exactly these events, in order; succeeds with the resulting state. */
  readonly thenEvents: (expected: ReadonlyArray<Event>) => Effect.Effect<State, SpecFailure>
  /** The command was accepted and produced no event. */
  readonly thenNothing: () => Effect.Effect<State, SpecFailure>
  /** The command was rejected with this error; the optional predicate checks its fields. */
  readonly thenError: <E extends Err>(
    matcher: ErrorMatcher<E>,
    predicate?: (error: E) => boolean
  ) => Effect.Effect<E, SpecFailure>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface GivenStep<State, Command, Event, Err> {
  readonly when: (command: Command) => WhenStep<State, Event, Err>
  /** The state folded from the given events, for assertions that need no command. */
  readonly state: State
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Spec<State, Command, Event, Err> {
  readonly given: (events: ReadonlyArray<Event>) => GivenStep<State, Command, Event, Err>
}

const show = (value: unknown): string => inspect(value, { depth: 8, breakLength: 100, compact: 3 })

const matches = <E>(error: unknown, matcher: ErrorMatcher<E>): error is E =>
  typeof matcher === "string"
    ? typeof error === "object" && error !== null && "_tag" in error && error._tag === matcher
    : error instanceof matcher

/**
 * Starts a specification for one handler.
 *
 * @example
 * const spec = HandlerSpec.forHandler(threadHandler)
 * it.effect("a prompt starts the agent", () =>
 *   spec.given([]).when(new Prompt({ text: "hi" })).thenEvents([new Prompted({ text: "hi" })]))
 *
 * @since 0.1.0
 * @category constructors
 */
export const forHandler = <State, Command, Event, Err>(
  handler: Handler.Handler<State, Command, Event, Err>
): Spec<State, Command, Event, Err> => ({
  given: (past) => {
    const state = Handler.fold(handler, past)
    return {
      state,
      when: (command) => {
        const outcome = Effect.gen(function* () {
          const first = yield* Effect.either(handler.process(state, command))
          const second = yield* Effect.either(handler.process(state, command))
          if (!isDeepStrictEqual(first, second)) {
            return yield* new SpecFailure({
              message: `process is not deterministic: the same command gave\n${show(first)}\nand then\n${show(second)}`
            })
          }
          return first
        })
        const accepted = Effect.flatMap(outcome, (result) =>
          Either.isRight(result)
            ? Effect.succeed(result.right)
            : Effect.fail(
                new SpecFailure({
                  message: `expected the command to be accepted, it failed with ${show(result.left)}`
                })
              )
        )
        return {
          thenEvents: (expected) =>
            Effect.flatMap(accepted, (events) =>
              isDeepStrictEqual([...events], [...expected])
                ? Effect.succeed(Handler.fold(handler, events, state))
                : Effect.fail(
                    new SpecFailure({
                      message: `expected events\n${show(expected)}\nbut got\n${show(events)}`
                    })
                  )
            ),
          thenNothing: () =>
            Effect.flatMap(accepted, (events) =>
              events.length === 0
                ? Effect.succeed(state)
                : Effect.fail(new SpecFailure({ message: `expected no events but got\n${show(events)}` }))
            ),
          thenError: <E extends Err>(matcher: ErrorMatcher<E>, predicate?: (error: E) => boolean) =>
            Effect.flatMap(outcome, (result): Effect.Effect<E, SpecFailure> => {
              if (Either.isRight(result)) {
                return Effect.fail(
                  new SpecFailure({
                    message: `expected an error but the command gave\n${show(result.right)}`
                  })
                )
              }
              const error: unknown = result.left
              if (!matches(error, matcher)) {
                const name = typeof matcher === "string" ? matcher : matcher.name
                return Effect.fail(
                  new SpecFailure({ message: `expected error ${name} but got ${show(error)}` })
                )
              }
              if (predicate && !predicate(error)) {
                return Effect.fail(
                  new SpecFailure({ message: `the error did not satisfy the predicate: ${show(error)}` })
                )
              }
              return Effect.succeed(error)
            })
        }
      }
    }
  }
})
