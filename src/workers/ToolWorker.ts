/**
 * The tool worker: for every thread with tool calls waiting, records `ToolStarted`, runs the
 * call in the sandbox and records `ToolCompleted`. A call that was started by a run that is gone
 * (a crash) is reported to the model as interrupted, never run a second time. An `ask_user` call
 * is not run: it becomes the thread's open question (`AskUser`), answered later by the user.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Scope from "effect/Scope"
import { sessionOf } from "../events/SessionEvents.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import type { Sandbox } from "../sandbox/Sandbox.js"
import { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import * as Attributes from "../telemetry/Attributes.js"
import {
  AskUser,
  CompleteTool,
  InterruptTool,
  StartTool,
  type ThreadCommand
} from "../thread/ThreadCommand.js"
import { threadHandler } from "../thread/ThreadHandler.js"
import { callsInFlight, callsToRun, type ThreadState } from "../thread/ThreadState.js"
import * as AgentTools from "../tools/AgentTools.js"
import * as ToolRunner from "../tools/ToolRunner.js"
import type { Validator } from "../tools/Validator.js"
import * as AggregateActors from "./internal/AggregateActors.js"
import { appendDecisionOutcome } from "./internal/appendDecision.js"
import * as ThreadActor from "./ThreadActor.js"
import { threadLog, type WorkerScope } from "./ThreadSource.js"

type Next =
  | { readonly _tag: "Record"; readonly command: ThreadCommand }
  | { readonly _tag: "Run"; readonly callId: string; readonly name: string; readonly params: unknown }

/**
 * The worker's actor: records, runs and completes the tool calls of a thread in `Tools` (and
 * turns an `ask_user` call into the thread's question).
 *
 * @since 0.1.0
 * @category running
 */
export const actor = (
  scope: WorkerScope
): Effect.Effect<ThreadActor.ThreadActor<Sandbox | Validator>, never, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const log = threadLog(store)
    /** Results this process computed but could not record yet (the aggregate moved meanwhile). */
    const unrecorded = new Map<string, ToolRunner.ToolOutcome>()
    const key = (aggregateId: string, callId: string) => `${aggregateId}\u0000${callId}`

    const next = (aggregateId: string, state: ThreadState): Next | undefined => {
      if (state.status !== "Tools" && state.status !== "UserWait") return undefined
      for (const call of state.calls) {
        const outcome = unrecorded.get(key(aggregateId, call.call.id))
        if (outcome !== undefined && call.result === undefined) {
          return {
            _tag: "Record",
            command: new CompleteTool({
              callId: call.call.id,
              result: outcome.result,
              isError: outcome.isError
            })
          }
        }
      }
      const orphan = callsInFlight(state)[0]
      if (orphan !== undefined)
        return { _tag: "Record", command: new InterruptTool({ callId: orphan.call.id }) }
      const ready = callsToRun(state)[0]
      if (ready === undefined) return undefined
      if (ready.call.name === AgentTools.AskUser.name) {
        // Nothing runs: the call becomes the thread's question, or an error result for bad arguments.
        return {
          _tag: "Record",
          command: Either.match(ToolRunner.questionOf(ready.call.params), {
            onRight: (question) => new AskUser({ callId: ready.call.id, question }),
            onLeft: (outcome) =>
              new CompleteTool({ callId: ready.call.id, result: outcome.result, isError: outcome.isError })
          })
        }
      }
      return { _tag: "Run", callId: ready.call.id, name: ready.call.name, params: ready.call.params }
    }

    const record = (snapshot: AggregateActors.Snapshot<ThreadState>, command: ThreadCommand) =>
      Effect.map(recordOutcome(snapshot, command), (outcome) => outcome.version)
    const recordOutcome = (snapshot: AggregateActors.Snapshot<ThreadState>, command: ThreadCommand) =>
      appendDecisionOutcome(
        log,
        ThreadEvents,
        scope.streamId,
        snapshot,
        threadHandler.process(snapshot.state, command),
        {
          correlationId: sessionOf(snapshot.aggregateId)
        }
      )

    return {
      name: "ToolWorker",
      owes: ({ aggregateId, state }) => next(aggregateId, state) !== undefined,
      act: (snapshot) =>
        Effect.gen(function* () {
          const action = next(snapshot.aggregateId, snapshot.state)
          if (action === undefined) return snapshot.version
          if (action._tag === "Record") {
            const version = yield* record(snapshot, action.command)
            if (action.command._tag === "CompleteTool" && version > snapshot.version) {
              unrecorded.delete(key(snapshot.aggregateId, action.command.callId))
            }
            return version
          }
          // Written before the tool runs: after a crash the log shows it started and never ran again.
          // Only the writer whose ToolStarted was recorded runs it (another process may have
          // appended one event at the same version: its version alone looks like success).
          const start = yield* recordOutcome(snapshot, new StartTool({ callId: action.callId }))
          if (!start.won) return start.version
          const started = start.version
          const outcome = yield* ToolRunner.run({
            id: action.callId,
            name: action.name,
            params: action.params
          }).pipe(
            Effect.withSpan("ToolWorker.tool", {
              attributes: {
                [Attributes.tool.name]: action.name,
                [Attributes.tool.callId]: action.callId
              }
            })
          )
          unrecorded.set(key(snapshot.aggregateId, action.callId), outcome)
          // The next act records it against the state that includes our ToolStarted.
          return started
        })
    } satisfies ThreadActor.ThreadActor<Sandbox | Validator>
  })

/**
 * Runs the worker until interrupted.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  scope: WorkerScope
): Effect.Effect<void, StoreError | DecodeError, EventStore | Sandbox | Validator | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    yield* ThreadActor.run(store, scope, yield* actor(scope))
  })
