import { describe, expect, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Handler from "../../src/Handler.js"
import * as HandlerSpec from "../../src/testing/HandlerSpec.js"

// A tiny counter aggregate, so these tests check the helper and nothing else.
class Added extends Data.TaggedClass("Added")<{ readonly amount: number }> {}
class Add extends Data.TaggedClass("Add")<{ readonly amount: number }> {}
class TooLarge extends Data.TaggedError("TooLarge")<{ readonly limit: number }> {}
class Negative extends Data.TaggedError("Negative")<{ readonly amount: number }> {}

const counter = Handler.make<number, Add, Added, TooLarge | Negative>({
  initial: 0,
  process: (total, { amount }) =>
    amount < 0
      ? Effect.fail(new Negative({ amount }))
      : total + amount > 10
        ? Effect.fail(new TooLarge({ limit: 10 }))
        : Effect.succeed(amount === 0 ? [] : [new Added({ amount })]),
  apply: (total, event) => total + event.amount
})

const spec = HandlerSpec.forHandler(counter)

const failsWith = <A, E>(self: Effect.Effect<A, E>, message: RegExp) =>
  Effect.flip(self).pipe(
    Effect.map((failure) => {
      expect(failure).toBeInstanceOf(HandlerSpec.SpecFailure)
      expect(failure).toMatchObject({ _tag: "SpecFailure", message: expect.stringMatching(message) })
    })
  )

describe("HandlerSpec: holding specifications", () => {
  it.effect("given folds the past events into the state", () =>
    Effect.sync(() => expect(spec.given([new Added({ amount: 2 }), new Added({ amount: 3 })]).state).toBe(5))
  )

  it.effect("thenEvents succeeds with the state after the new events", () =>
    spec
      .given([new Added({ amount: 2 })])
      .when(new Add({ amount: 3 }))
      .thenEvents([new Added({ amount: 3 })])
      .pipe(Effect.map((state) => expect(state).toBe(5)))
  )

  it.effect("thenNothing succeeds with the unchanged state", () =>
    spec
      .given([new Added({ amount: 2 })])
      .when(new Add({ amount: 0 }))
      .thenNothing()
      .pipe(Effect.map((state) => expect(state).toBe(2)))
  )

  it.effect("thenError matches by class and returns the error", () =>
    spec
      .given([new Added({ amount: 9 })])
      .when(new Add({ amount: 2 }))
      .thenError(TooLarge, (e) => e.limit === 10)
      .pipe(Effect.map((error) => expect(error).toEqual(new TooLarge({ limit: 10 }))))
  )

  it.effect("thenError matches by tag", () =>
    spec
      .given([])
      .when(new Add({ amount: -1 }))
      .thenError("Negative")
  )
})

describe("HandlerSpec: failing specifications", () => {
  it.effect("thenEvents fails when the events differ", () =>
    failsWith(
      spec
        .given([])
        .when(new Add({ amount: 3 }))
        .thenEvents([new Added({ amount: 4 })]),
      /expected events[\s\S]*amount: 4[\s\S]*but got[\s\S]*amount: 3/
    )
  )

  it.effect("thenEvents fails when there are more events than expected", () =>
    failsWith(
      spec
        .given([])
        .when(new Add({ amount: 3 }))
        .thenEvents([]),
      /expected events/
    )
  )

  it.effect("thenEvents fails when the command is rejected", () =>
    failsWith(
      spec
        .given([])
        .when(new Add({ amount: -1 }))
        .thenEvents([new Added({ amount: -1 })]),
      /expected the command to be accepted, it failed with[\s\S]*Negative/
    )
  )

  it.effect("thenNothing fails when events were produced", () =>
    failsWith(
      spec
        .given([])
        .when(new Add({ amount: 1 }))
        .thenNothing(),
      /expected no events but got/
    )
  )

  it.effect("thenNothing fails when the command is rejected", () =>
    failsWith(
      spec
        .given([])
        .when(new Add({ amount: -1 }))
        .thenNothing(),
      /expected the command to be accepted/
    )
  )

  it.effect("thenError fails when the command is accepted", () =>
    failsWith(
      spec
        .given([])
        .when(new Add({ amount: 1 }))
        .thenError(TooLarge),
      /expected an error but the command gave/
    )
  )

  it.effect("thenError fails on another error class", () =>
    failsWith(
      spec
        .given([])
        .when(new Add({ amount: -1 }))
        .thenError(TooLarge),
      /expected error TooLarge but got[\s\S]*Negative/
    )
  )

  it.effect("thenError fails on another tag", () =>
    failsWith(
      spec
        .given([])
        .when(new Add({ amount: -1 }))
        .thenError("TooLarge"),
      /expected error TooLarge/
    )
  )

  it.effect("thenError fails when the predicate does not hold", () =>
    failsWith(
      spec
        .given([new Added({ amount: 9 })])
        .when(new Add({ amount: 2 }))
        .thenError(TooLarge, (e) => e.limit === 5),
      /did not satisfy the predicate/
    )
  )

  it.effect("a handler whose answer changes between runs is caught", () => {
    let calls = 0
    const impure = Handler.make<number, Add, Added, never>({
      initial: 0,
      process: (_, { amount }) => Effect.sync(() => [new Added({ amount: amount + calls++ })]),
      apply: (total, event) => total + event.amount
    })
    return failsWith(
      HandlerSpec.forHandler(impure)
        .given([])
        .when(new Add({ amount: 1 }))
        .thenEvents([new Added({ amount: 1 })]),
      /process is not deterministic/
    )
  })
})
