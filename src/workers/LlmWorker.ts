/**
 * The LLM worker: for every thread whose state is `Agent`, asks the model for the next turn and
 * records it as `LlmCompleted` (tool calls included, even ones the model got wrong).
 *
 * Before a turn it estimates the prompt (system prompt, tool definitions, history). Past the
 * `ThreadCompaction` budget it first asks the model, without tools, to summarize the oldest turns
 * and records the summary as `ThreadCompacted`; the next turn then runs on the shorter prompt.
 * A failed summary call falls back to a cut-down transcript, so the thread never stalls on it.
 *
 * @since 0.1.0
 */
import * as LanguageModel from "@effect/ai/LanguageModel"
import type * as Response from "@effect/ai/Response"
import * as Tool from "@effect/ai/Tool"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { sessionOf } from "../events/SessionEvents.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import * as RejectedToolCall from "../llm/RejectedToolCall.js"
import { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import * as Metrics from "../telemetry/Metrics.js"
import { Compact, CompleteLlm, Fail, type ThreadCommand } from "../thread/ThreadCommand.js"
import {
  type CompactionPlan,
  type CompactionPolicy,
  estimateTokens,
  messageOverheadTokens,
  planCompaction,
  ThreadCompaction,
  truncateToTokens
} from "../thread/ThreadCompaction.js"
import type { TokenUsage, ToolCall } from "../thread/ThreadEvent.js"
import { threadHandler } from "../thread/ThreadHandler.js"
import type { ThreadState } from "../thread/ThreadState.js"
import { AgentToolkit, AgentToolkitHandlers } from "../tools/AgentTools.js"
import { appendDecision } from "./internal/appendDecision.js"
import * as ThreadPrompt from "./ThreadPrompt.js"
import * as ThreadActor from "./ThreadActor.js"
import { threadLog, type WorkerScope } from "./ThreadSource.js"

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
): Effect.Effect<ThreadCommand, never, LanguageModel.LanguageModel> => {
  const prompt = ThreadPrompt.fromState(state)
  return LanguageModel.generateText({
    prompt,
    toolkit,
    disableToolCallResolution: true
  }).pipe(
    Metrics.observeLlmCall("turn", { messages: prompt.content.length }),
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
}

/**
 * The estimated tokens every request spends on tool definitions (names, descriptions and
 * parameter schemas of the tools the model sees).
 *
 * @since 0.1.0
 * @category compaction
 */
export const toolDefinitionTokens = (toolkit: ResolvedToolkit): number =>
  estimateTokens(
    JSON.stringify(
      RejectedToolCall.visibleTools(Object.values(toolkit.tools)).map((tool) => ({
        name: tool.name,
        description: tool.description ?? "",
        parameters: Tool.getJsonSchemaFromSchemaAst(tool.parametersSchema.ast)
      }))
    )
  )

/**
 * The estimated tokens of a turn's prompt outside the history: the system prompt plus
 * `toolTokens` of tool definitions.
 *
 * @since 0.1.0
 * @category compaction
 */
export const promptOverheadTokens = (state: ThreadState, toolTokens: number): number =>
  estimateTokens(ThreadPrompt.systemOf(state)) + messageOverheadTokens + toolTokens

const zeroUsage: TokenUsage = { inputTokens: 0, outputTokens: 0 }

/**
 * The summary of the messages `plan` replaces, as the command that records it. The model is
 * asked once, without tools; a summary over `summaryTokens` is cut. When the call fails or the
 * answer is empty, the summary is the replaced transcript cut to size: cruder, but the thread
 * goes on and the log says what happened.
 *
 * @since 0.1.0
 * @category compaction
 */
export const compact = (
  state: ThreadState,
  plan: CompactionPlan,
  policy: CompactionPolicy
): Effect.Effect<ThreadCommand, never, LanguageModel.LanguageModel> => {
  const history = Chunk.toReadonlyArray(state.history)
  const text = ThreadPrompt.transcript(
    history.slice(plan.from, plan.from + plan.replacedMessages),
    policy.budget
  )
  const first = history[0]
  const task = plan.from > 0 && first?.role === "user" ? first.text : undefined
  const mechanical = `(No model summary; the earlier conversation, cut to fit.)\n${text}`
  const record = (summary: string, usage: TokenUsage): ThreadCommand =>
    new Compact({
      summary: truncateToTokens(summary === "" ? mechanical : summary, policy.summaryTokens),
      from: plan.from,
      replacedMessages: plan.replacedMessages,
      usage
    })
  const prompt = ThreadPrompt.summaryPrompt({ task, transcript: text, summaryTokens: policy.summaryTokens })
  return LanguageModel.generateText({ prompt }).pipe(
    Metrics.observeLlmCall("compact", { messages: prompt.length }),
    Effect.map((response) =>
      record(response.text.trim(), {
        inputTokens: response.usage.inputTokens ?? 0,
        outputTokens: response.usage.outputTokens ?? 0
      })
    ),
    Effect.catchAll((error) =>
      Effect.as(
        Effect.logWarning(`compaction summary failed, keeping a truncated transcript: ${error.message}`),
        record(mechanical, zeroUsage)
      )
    )
  )
}

/**
 * The worker's actor: asks the model for the next turn of a thread in `Agent` and records it.
 *
 * @since 0.1.0
 * @category running
 */
export const actor = (
  scope: WorkerScope
): Effect.Effect<ThreadActor.ThreadActor<LanguageModel.LanguageModel>, never, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const log = threadLog(store)
    const toolkit = yield* resolvedToolkit
    const toolTokens = toolDefinitionTokens(toolkit)
    const policy = yield* ThreadCompaction
    return {
      name: "LlmWorker",
      owes: ({ state }) => state.status === "Agent",
      act: (snapshot) => {
        const plan = planCompaction(
          snapshot.state.history,
          promptOverheadTokens(snapshot.state, toolTokens),
          policy
        )
        const command =
          plan === undefined ? turn(snapshot.state, toolkit) : compact(snapshot.state, plan, policy)
        return command.pipe(
          Effect.flatMap((command) =>
            appendDecision(
              log,
              ThreadEvents,
              scope.streamId,
              snapshot,
              threadHandler.process(snapshot.state, command),
              {
                correlationId: sessionOf(snapshot.aggregateId)
              }
            )
          ),
          Effect.withSpan(plan === undefined ? "LlmWorker.turn" : "LlmWorker.compact", {
            attributes: { aggregateId: snapshot.aggregateId, step: snapshot.state.steps + 1 }
          })
        )
      }
    } satisfies ThreadActor.ThreadActor<LanguageModel.LanguageModel>
  })

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
    yield* ThreadActor.run(store, scope, yield* actor(scope))
  })
