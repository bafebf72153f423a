/**
 * The LLM worker: for every thread whose state is `Agent`, asks the model for the next turn and
 * records it as `LlmCompleted` (tool calls included, even ones the model got wrong).
 *
 * @since 0.1.0
 */
import * as LanguageModel from "@effect/ai/LanguageModel"
import type * as Response from "@effect/ai/Response"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { sessionOf } from "../events/SessionEvents.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import { RejectedToolCall } from "../llm/RejectedToolCall.js"
import { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import { CompleteLlm, Fail, type ThreadCommand } from "../thread/ThreadCommand.js"
import type { ToolCall } from "../thread/ThreadEvent.js"
import { threadHandler } from "../thread/ThreadHandler.js"
import { initialThreadState, type ThreadState } from "../thread/ThreadState.js"
import { AgentToolkit, AgentToolkitHandlers } from "../tools/AgentTools.js"
import * as AggregateActors from "./internal/AggregateActors.js"
import { appendDecision } from "./internal/appendDecision.js"
import * as ThreadPrompt from "./ThreadPrompt.js"
import { sources, type WorkerScope } from "./ThreadSource.js"

const toolCallOf = (call: Response.ToolCallParts<typeof AgentToolkit.tools>): ToolCall =>
  // A rejected call is recorded as the model made it; the tool worker answers it with the error.
  call.name === RejectedToolCall.name
    ? { id: call.id, name: call.params.name, params: call.params.params ?? null }
    : { id: call.id, name: call.name, params: call.params }

/**
 * The toolkit with its (never called) handlers, resolved once per worker: resolving it per turn
 * would rebuild the response Schema every call.
 *
 * @since 0.1.0
 * @category running
 */
export const resolvedToolkit = AgentToolkit.pipe(Effect.provide(AgentToolkitHandlers))

type ResolvedToolkit = Effect.Effect.Success<typeof resolvedToolkit>

/**
 * One model turn for a thread, as the command that records it. A turn the provider could not
 * parse (possible with the OpenAI and Anthropic clients when the model names an unknown tool)
 * is asked again twice; any other model error fails the thread with the reason.
 *
 * @since 0.1.0
 * @category running
 */
export const turn = (
  state: ThreadState,
  toolkit: ResolvedToolkit
): Effect.Effect<ThreadCommand, never, LanguageModel.LanguageModel> =>
  LanguageModel.generateText({
    prompt: ThreadPrompt.fromState(state),
    toolkit,
    disableToolCallResolution: true
  }).pipe(
    Effect.retry({ while: (error) => error._tag === "MalformedOutput", times: 2 }),
    Effect.map(
      (response): ThreadCommand =>
        new CompleteLlm({
          text: response.text,
          toolCalls: response.toolCalls.map(toolCallOf),
          usage: {
            inputTokens: response.usage.inputTokens ?? 0,
            outputTokens: response.usage.outputTokens ?? 0
          },
          finishReason: response.finishReason
        })
    ),
    Effect.catchAll((error) =>
      Effect.succeed<ThreadCommand>(new Fail({ reason: `model error: ${error.message}` }))
    )
  )

/**
 * Runs the worker until interrupted.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  scope: WorkerScope
): Effect.Effect<void, StoreError | DecodeError, EventStore | LanguageModel.LanguageModel | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const source = sources(store, scope)
    const toolkit = yield* resolvedToolkit
    yield* AggregateActors.run({
      ...source,
      initial: initialThreadState,
      apply: threadHandler.apply,
      isTerminal: (state) => state.status === "Done" || state.status === "Failed",
      owes: ({ state }) => state.status === "Agent",
      act: (snapshot) =>
        turn(snapshot.state, toolkit).pipe(
          Effect.flatMap((command) =>
            appendDecision(
              source.log,
              ThreadEvents,
              scope.streamId,
              snapshot,
              threadHandler.process(snapshot.state, command),
              {
                correlationId: sessionOf(snapshot.aggregateId)
              }
            )
          ),
          Effect.withSpan("LlmWorker.turn", {
            attributes: { aggregateId: snapshot.aggregateId, step: snapshot.state.steps + 1 }
          })
        )
    })
  })
