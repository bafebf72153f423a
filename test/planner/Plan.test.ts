import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import {
  DependencyCycle,
  DependencyReference,
  DuplicateTaskId,
  EmptyPlan,
  findCycle,
  TaskSpec,
  UnknownDependency,
  validatePlan
} from "../../src/planner/index.js"

const task = (id: string, dependencies: ReadonlyArray<string> = []): TaskSpec =>
  new TaskSpec({ id, description: `do ${id}`, kind: "processing", dependencies })

const failure = <A, E>(effect: Effect.Effect<A, E>) => Effect.flip(effect)

describe("validatePlan", () => {
  it.effect("accepts an acyclic plan and returns it unchanged", () =>
    Effect.gen(function* () {
      const plan = [task("a"), task("b", ["a"]), task("c", ["a"]), task("d", ["b", "c"])]
      expect(yield* validatePlan(plan)).toEqual(plan)
    })
  )

  it.effect("rejects an empty plan", () =>
    Effect.gen(function* () {
      expect(yield* failure(validatePlan([]))).toBeInstanceOf(EmptyPlan)
    })
  )

  it.effect("names every repeated id once", () =>
    Effect.gen(function* () {
      const error = yield* failure(validatePlan([task("a"), task("b"), task("a"), task("b"), task("a")]))
      expect(error).toEqual(new DuplicateTaskId({ taskIds: ["a", "b"] }))
      expect(error.message).toContain('"a", "b"')
    })
  )

  it.effect("names every dependency on an unknown id, in plan order", () =>
    Effect.gen(function* () {
      const error = yield* failure(validatePlan([task("a", ["x"]), task("b", ["a", "y", "x"])]))
      expect(error).toEqual(
        new UnknownDependency({
          references: [
            new DependencyReference({ taskId: "a", dependency: "x" }),
            new DependencyReference({ taskId: "b", dependency: "y" }),
            new DependencyReference({ taskId: "b", dependency: "x" })
          ]
        })
      )
      expect(error.message).toContain('"b" -> "y"')
    })
  )

  it.effect("reports duplicates before unknown dependencies", () =>
    Effect.gen(function* () {
      const error = yield* failure(validatePlan([task("a", ["x"]), task("a")]))
      expect(error._tag).toBe("DuplicateTaskId")
    })
  )

  it.effect("rejects a task that depends on itself", () =>
    Effect.gen(function* () {
      const error = yield* failure(validatePlan([task("a"), task("b", ["b"])]))
      expect(error).toEqual(new DependencyCycle({ cycle: ["b", "b"] }))
    })
  )

  it.effect("names the cycle as a path", () =>
    Effect.gen(function* () {
      const error = yield* failure(
        validatePlan([task("root", ["a"]), task("a", ["b"]), task("b", ["c"]), task("c", ["a"])])
      )
      expect(error).toEqual(new DependencyCycle({ cycle: ["a", "b", "c", "a"] }))
      expect(error.message).toContain('"a" -> "b" -> "c" -> "a"')
    })
  )
})

describe("findCycle", () => {
  it("finds none in a diamond", () => {
    expect(findCycle([task("a"), task("b", ["a"]), task("c", ["a"]), task("d", ["b", "c", "a"])])).toBe(
      undefined
    )
  })

  it("walks a long chain without overflowing the stack", () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => task(`t${i}`, i === 0 ? [] : [`t${i - 1}`]))
    expect(findCycle(chain)).toBe(undefined)
    const closed = [task("t0", ["t19999"]), ...chain.slice(1)]
    expect(findCycle(closed)?.length).toBe(20_001)
  })
})

describe("TaskSpec", () => {
  it.effect("decodes a task without dependencies as having none", () =>
    Effect.gen(function* () {
      const spec = yield* Schema.decodeUnknown(TaskSpec)({
        id: "setup-db",
        description: "x",
        kind: "tool_call"
      })
      expect(spec.dependencies).toEqual([])
    })
  )

  it.effect("rejects an unknown kind and an empty id", () =>
    Effect.gen(function* () {
      const decode = Schema.decodeUnknown(TaskSpec)
      yield* failure(decode({ id: "a", description: "x", kind: "bash" }))
      yield* failure(decode({ id: "", description: "x", kind: "processing" }))
    })
  )
})
