/**
 * Composing dabgent into an Effect application: a thread for a focused change, a plan for a
 * larger one. Every dependency is a layer, so tests swap in memory, scripted and local layers.
 *
 * Run it (with a key): npx tsx examples/embed.ts
 */
import { Effect, Layer } from "effect"
import { DabgentAgent, Models, Sandbox, SqliteEventStore, Validator } from "../src/index.js"

/** The production layers: SQLite log, a real model, the bubblewrap sandbox, `npm test` as validator. */
export const AgentLive = (workdir: string) =>
  DabgentAgent.layer.pipe(
    Layer.provideMerge(Validator.layer("npm test").pipe(Layer.provideMerge(Sandbox.layerAuto(workdir)))),
    Layer.provideMerge(Models.layerConfig({ model: "openai:gpt-4o-mini" })), // key from OPENAI_API_KEY
    Layer.provideMerge(SqliteEventStore.layer({ filename: `${workdir}/.dabgent/events.db` }))
  )

/** A thread first; if it did not get there, plan the work and execute the plan. */
export const program = Effect.gen(function* () {
  const agent = yield* DabgentAgent
  const thread = yield* agent.simpleExecute("Make the failing test pass", { maxSteps: 30 })
  yield* Effect.log(`thread ${thread.sessionId}: ${thread.status} — ${thread.message}`)
  if (thread.status === "Done") return thread.status
  const plan = yield* agent.planAndExecute(
    "Find why the tests fail, fix each cause, then run the whole suite",
    {
      maxParallel: 2
    }
  )
  for (const task of plan.tasks)
    yield* Effect.log(`[${task.id}] ${task.status}: ${task.result ?? task.description}`)
  yield* Effect.log(`total tokens: ${plan.usage.inputTokens + plan.usage.outputTokens}`)
  return plan.outcome ?? plan.status
})

if (import.meta.url === `file://${process.argv[1]}`) {
  program.pipe(Effect.provide(AgentLive(process.cwd())), Effect.runPromise).then(
    (outcome) => console.log(outcome),
    (error: unknown) => {
      console.error(error)
      process.exitCode = 1
    }
  )
}
