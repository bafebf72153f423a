/**
 * The Thread aggregate's decider: which events a command produces, and the handler service.
 *
 * The state machine's choices:
 * - an assistant turn without tool calls is answered with `AgentNudged` (a reminder to act and to
 *   call `done`) and the thread stays in `Agent`; it costs a step like any other turn;
 * - the step budget is checked whenever the thread would hand the turn back to the model: when
 *   the last result of a batch arrives (or after a turn without tool calls) and `maxSteps` turns
 *   were used, the thread fails instead;
 * - a `done` call whose result is not an error ends the thread once every call of its batch has a
 *   result; a `done` call with an error result (the validator said no) is just a tool result, so
 *   the model sees the validator's message on its next turn;
 * - `Compact` is accepted only between turns (`Agent`), for a range of whole turns: the summary
 *   replaces those messages, costs no step, and its tokens count in the thread's usage.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Handler from "../Handler.js"
import type { ThreadCommand } from "./ThreadCommand.js"
import { isTurnBoundary } from "./ThreadCompaction.js"
import {
  DuplicateToolCallId,
  InvalidCompaction,
  InvalidTransition,
  type ThreadError,
  ThreadFinished,
  ToolCallAlreadyCompleted,
  ToolCallAlreadyStarted,
  ToolCallAwaitingUser,
  ToolCallNotStarted,
  UnknownToolCall
} from "./ThreadError.js"
import {
  AgentNudged,
  LlmCompleted,
  Prompted,
  ThreadCompacted,
  ThreadDone,
  type ThreadEvent,
  ThreadFailed,
  ToolCompleted,
  ToolStarted,
  UserAnswered,
  UserQuestionAsked
} from "./ThreadEvent.js"
import {
  evolveThread,
  initialThreadState,
  type RunningThread,
  type ThreadState,
  type ToolCallState,
  type ToolResult
} from "./ThreadState.js"

/**
 * The name of the tool whose accepted result ends a thread.
 *
 * @since 0.1.0
 * @category constants
 */
export const doneToolName = "done"

/**
 * What the model is told after a turn in which it called no tool.
 *
 * @since 0.1.0
 * @category constants
 */
export const nudgeMessage =
  "You ended your turn without calling a tool. Nothing happens unless you call tools: continue the task with them, " +
  `and when the work is finished call \`${doneToolName}\` with a summary. If you need information from the user, call \`ask_user\`.`

/**
 * The error result a started call gets when its worker stopped before recording a result.
 *
 * @since 0.1.0
 * @category constants
 */
export const interruptedResult =
  "interrupted: the worker stopped while this tool call was running, so its outcome is unknown and it was not run again. " +
  "Check the current state of the workspace before retrying."

/**
 * The reason a thread fails when it has used all its LLM turns without an accepted `done`.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxStepsReason = (maxSteps: number): string =>
  `max steps exceeded: the agent used all ${maxSteps} LLM turns without an accepted \`${doneToolName}\` call`

type Events = Effect.Effect<ReadonlyArray<ThreadEvent>, ThreadError>

const accept = (...events: ReadonlyArray<ThreadEvent>): Events => Effect.succeed(events)

const invalid = (state: ThreadState, command: ThreadCommand): Events =>
  Effect.fail(new InvalidTransition({ state: state.status, command: command._tag }))

const isBatchState = (state: RunningThread): boolean =>
  state.status === "Tools" || state.status === "UserWait"

const render = (output: unknown): string => (typeof output === "string" ? output : JSON.stringify(output))

const summaryOf = (call: ToolCallState, result: ToolResult): string => {
  const params = call.call.params
  return typeof params === "object" &&
    params !== null &&
    "summary" in params &&
    typeof params.summary === "string"
    ? params.summary
    : render(result.output)
}

/** The events that follow the result of `callId`: the thread ends or hands the turn back. */
const settle = (state: RunningThread, callId: string, result: ToolResult, event: ThreadEvent): Events => {
  const calls = state.calls.map((c) => (c.call.id === callId ? { ...c, result } : c))
  if (calls.some((c) => c.result === undefined)) return accept(event)
  for (const c of calls) {
    if (c.call.name === doneToolName && c.result !== undefined && !c.result.isError) {
      return accept(event, new ThreadDone({ summary: summaryOf(c, c.result) }))
    }
  }
  return state.steps >= state.maxSteps
    ? accept(event, new ThreadFailed({ reason: maxStepsReason(state.maxSteps) }))
    : accept(event)
}

/** Finds a call of the current batch that still has no result and waits for no answer. */
const openCall = (state: RunningThread, callId: string): Effect.Effect<ToolCallState, ThreadError> => {
  const call = state.calls.find((c) => c.call.id === callId)
  if (call === undefined) return Effect.fail(new UnknownToolCall({ callId }))
  if (call.result !== undefined) return Effect.fail(new ToolCallAlreadyCompleted({ callId }))
  if (call.question !== undefined) return Effect.fail(new ToolCallAwaitingUser({ callId }))
  return Effect.succeed(call)
}

const firstDuplicate = (ids: ReadonlyArray<string>): string | undefined => {
  const seen = new Set<string>()
  for (const id of ids) {
    if (seen.has(id)) return id
    seen.add(id)
  }
  return undefined
}

const processRunning = (state: RunningThread, command: ThreadCommand): Events => {
  switch (command._tag) {
    case "Prompt":
      return state.status !== "Idle"
        ? invalid(state, command)
        : accept(
            new Prompted({
              prompt: command.prompt,
              maxSteps: command.maxSteps,
              ...(command.system === undefined ? {} : { system: command.system })
            })
          )
    case "CompleteLlm": {
      if (state.status !== "Agent") return invalid(state, command)
      const duplicate = firstDuplicate(command.toolCalls.map((c) => c.id))
      if (duplicate !== undefined) return Effect.fail(new DuplicateToolCallId({ callId: duplicate }))
      const completed = new LlmCompleted({
        text: command.text,
        toolCalls: command.toolCalls,
        usage: command.usage,
        finishReason: command.finishReason
      })
      if (command.toolCalls.length > 0) return accept(completed)
      return state.steps + 1 >= state.maxSteps
        ? accept(completed, new ThreadFailed({ reason: maxStepsReason(state.maxSteps) }))
        : accept(completed, new AgentNudged({ message: nudgeMessage }))
    }
    case "StartTool":
      if (!isBatchState(state)) return invalid(state, command)
      return Effect.flatMap(openCall(state, command.callId), (c) =>
        c.started
          ? Effect.fail(new ToolCallAlreadyStarted({ callId: command.callId }))
          : accept(new ToolStarted({ callId: command.callId, name: c.call.name }))
      )
    case "CompleteTool":
      if (!isBatchState(state)) return invalid(state, command)
      return Effect.flatMap(openCall(state, command.callId), (c) =>
        settle(
          state,
          command.callId,
          { output: command.result, isError: command.isError },
          new ToolCompleted({
            callId: command.callId,
            name: c.call.name,
            result: command.result,
            isError: command.isError
          })
        )
      )
    case "InterruptTool":
      if (!isBatchState(state)) return invalid(state, command)
      return Effect.flatMap(openCall(state, command.callId), (c) =>
        !c.started
          ? Effect.fail(new ToolCallNotStarted({ callId: command.callId }))
          : settle(
              state,
              command.callId,
              { output: interruptedResult, isError: true },
              new ToolCompleted({
                callId: command.callId,
                name: c.call.name,
                result: interruptedResult,
                isError: true
              })
            )
      )
    case "AskUser":
      if (!isBatchState(state)) return invalid(state, command)
      return Effect.flatMap(openCall(state, command.callId), () =>
        accept(new UserQuestionAsked({ callId: command.callId, question: command.question }))
      )
    case "Answer": {
      const question = state.questions[0]
      if (state.status !== "UserWait" || question === undefined) return invalid(state, command)
      return settle(
        state,
        question.callId,
        { output: command.text, isError: false },
        new UserAnswered({ callId: question.callId, answer: command.text })
      )
    }
    case "Compact": {
      if (state.status !== "Agent") return invalid(state, command)
      const historyLength = Chunk.size(state.history)
      const end = command.from + command.replacedMessages
      const reason =
        end > historyLength
          ? "the range runs past the end of the history"
          : !isTurnBoundary(state.history, command.from)
            ? "the range starts at a tool result, inside an assistant turn"
            : !isTurnBoundary(state.history, end)
              ? "the range ends before a tool result, inside an assistant turn"
              : undefined
      if (reason !== undefined)
        return Effect.fail(
          new InvalidCompaction({
            from: command.from,
            replacedMessages: command.replacedMessages,
            historyLength,
            reason
          })
        )
      return accept(
        new ThreadCompacted({
          summary: command.summary,
          from: command.from,
          replacedMessages: command.replacedMessages,
          usage: command.usage
        })
      )
    }
    case "Fail":
      return state.status === "Idle"
        ? invalid(state, command)
        : accept(new ThreadFailed({ reason: command.reason }))
  }
}

/**
 * Decides the events for one command. Pure: same state and command, same answer.
 *
 * @since 0.1.0
 * @category deciders
 */
export const processThread = (state: ThreadState, command: ThreadCommand): Events =>
  state.status === "Done" || state.status === "Failed"
    ? Effect.fail(new ThreadFinished({ state: state.status, command: command._tag }))
    : processRunning(state, command)

/**
 * The Thread aggregate as a plain value.
 *
 * @since 0.1.0
 * @category handlers
 */
export const threadHandler: Handler.Handler<ThreadState, ThreadCommand, ThreadEvent, ThreadError> =
  Handler.make({
    initial: initialThreadState,
    process: processThread,
    apply: evolveThread
  })

/**
 * The Thread aggregate as a service, so applications read it from the context and tests can
 * replace it.
 *
 * @since 0.1.0
 * @category services
 */
export class ThreadHandler extends Context.Tag("dabgent/ThreadHandler")<
  ThreadHandler,
  Handler.Handler<ThreadState, ThreadCommand, ThreadEvent, ThreadError>
>() {
  /**
   * Provides {@link threadHandler}.
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layer: Layer.Layer<ThreadHandler> = Layer.succeed(ThreadHandler, threadHandler)
}
