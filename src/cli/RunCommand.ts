/**
 * `dabgent run "<input>"`: for new users, one command that chooses how to work — a single
 * thread for a focused request, a plan for work with several steps. The model classifies the
 * input in one cheap call; when it cannot, a heuristic decides (`coordinator/Routing.ts`). The
 * choice and its reason are recorded (`route.RouteChosen`) and printed.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { newPlanSessionId } from "../coordinator/Planning.js"
import { classify } from "../coordinator/Routing.js"
import { defaultStreamId, newSessionId } from "../DabgentAgent.js"
import * as EventCodec from "../events/EventCodec.js"
import * as EventLog from "../events/EventLog.js"
import { RouteChosen, RouteEvents, routeAggregateId } from "../events/SessionEvents.js"
import * as Models from "../llm/Models.js"
import { EventStore } from "../store/EventStore.js"
import * as Shared from "./options.js"
import { parallel, planConfig } from "./PlanCommands.js"
import * as RunEnvironment from "./RunEnvironment.js"
import * as RunPlan from "./RunPlan.js"
import * as RunThread from "./RunThread.js"
import * as StoreLocation from "./StoreLocation.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const run = Command.make(
  "run",
  {
    prompt: Args.text({ name: "input" }).pipe(Args.withDescription("What you want done.")),
    ...Shared.runOptions,
    parallel,
    detach: Shared.detach
  },
  (options) =>
    Effect.gen(function* () {
      yield* Shared.checkDetach(options.detach, StoreLocation.parse(options.store))
      const resolved = yield* RunEnvironment.resolveModel(options)
      const route = yield* classify(options.prompt).pipe(
        Effect.provide(Models.layerResolved(resolved).pipe(Layer.provide(NodeHttpClient.layerUndici)))
      )
      const config = {
        ...planConfig(options, { _tag: "Coordinate", input: options.prompt }),
        detach: options.detach
      }
      const sessionId = route.mode === "plan" ? newPlanSessionId() : newSessionId()
      yield* Effect.flatMap(EventStore, (store) =>
        EventLog.make(store, EventCodec.make(RouteEvents)).append(RouteEvents, {
          streamId: defaultStreamId,
          aggregateId: routeAggregateId(sessionId),
          events: [new RouteChosen(route)],
          expectedVersion: 0,
          metadata: { correlationId: sessionId }
        })
      ).pipe(Effect.provide(StoreLocation.layer(config.store)), Effect.mapError(RunEnvironment.configError))
      if (!options.json) {
        yield* Console.error(
          `route: ${route.mode === "plan" ? "a plan of tasks" : "a single thread"} — ${route.reason} (${route.by})`
        )
      }
      if (route.mode === "plan") return yield* RunPlan.run({ ...config, sessionId })
      return yield* RunThread.run({
        ...config,
        sessionId,
        start: { _tag: "New", prompt: options.prompt }
      })
    })
).pipe(
  Command.withDescription(
    "Do what the input asks, choosing a single agent thread or a plan of tasks (and saying which)."
  )
)
