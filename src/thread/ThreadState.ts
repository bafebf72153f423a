/**
 * The state of a thread, and how one event evolves it.
 *
 * The state is a plain discriminated union on `status`; every variant carries the same data
 * (configuration, conversation history, step count, token totals and the current tool batch), and
 * the terminal variants add their `summary` or `reason`. It is built to be evolved one event at a
 * time over long threads: the history is an `effect/Chunk` (appending is O(1) amortized, nothing
 * is copied), and the only arrays rebuilt per event are the current batch of tool calls and the
 * open questions, whose size is bounded by one model turn, never by the thread's length.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Schema from "effect/Schema"
import type { ThreadEvent, TokenUsage, ToolCall } from "./ThreadEvent.js"

/**
 * Where a thread is in its life:
 * - `Idle`: not prompted yet;
 * - `Agent`: the model owes the next turn (the LLM worker acts);
 * - `Tools`: tool calls of the last turn lack results (the tool worker acts);
 * - `UserWait`: at least one `ask_user` question is open (the user acts; the tool worker may
 *   still finish the other calls of the batch);
 * - `Done` / `Failed`: terminal.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ThreadStatus = Schema.Literal("Idle", "Agent", "Tools", "UserWait", "Done", "Failed")

/**
 * @since 0.1.0
 * @category models
 */
export type ThreadStatus = typeof ThreadStatus.Type

/**
 * One entry of the conversation the LLM worker sends to the model. The system prompt is not part
 * of it (see `ThreadData.system`). Tool results appear in the order they arrived, after the
 * assistant turn that requested them. A `summary` stands for older messages that compaction
 * replaced (see `ThreadCompacted`).
 *
 * @since 0.1.0
 * @category models
 */
export type ThreadMessage =
  | { readonly role: "user"; readonly text: string }
  | { readonly role: "summary"; readonly text: string }
  | { readonly role: "assistant"; readonly text: string; readonly toolCalls: ReadonlyArray<ToolCall> }
  | {
      readonly role: "tool"
      readonly callId: string
      readonly name: string
      readonly result: unknown
      readonly isError: boolean
    }

/**
 * The result of one tool call (a user's answer is the result of its `ask_user` call).
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolResult {
  readonly output: unknown
  readonly isError: boolean
}

/**
 * A tool call of the current batch and how far it got.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolCallState {
  readonly call: ToolCall
  /** A `ToolStarted` was recorded for it. */
  readonly started: boolean
  /** The open question this call asked the user, if it is waiting for an answer. */
  readonly question: string | undefined
  readonly result: ToolResult | undefined
}

/**
 * A question waiting for the user's answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenQuestion {
  readonly callId: string
  readonly question: string
}

/**
 * What every state variant carries.
 *
 * @since 0.1.0
 * @category models
 */
export interface ThreadData {
  /** The LLM-turn budget from `Prompted` (0 while `Idle`). */
  readonly maxSteps: number
  /** The system prompt from `Prompted`, if any. */
  readonly system: string | undefined
  /** The conversation so far: prompt, assistant turns, tool results, answers, nudges, summaries. */
  readonly history: Chunk.Chunk<ThreadMessage>
  /** LLM turns recorded so far. */
  readonly steps: number
  /** Tokens used by all turns and compaction summaries so far. */
  readonly usage: TokenUsage
  /** The tool calls of the latest assistant turn, in the order the model made them. */
  readonly calls: ReadonlyArray<ToolCallState>
  /** Open questions, oldest first; `Answer` answers the first. */
  readonly questions: ReadonlyArray<OpenQuestion>
}

/**
 * A thread that can still move.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunningThread extends ThreadData {
  readonly status: "Idle" | "Agent" | "Tools" | "UserWait"
}

/**
 * A thread whose `done` call was accepted.
 *
 * @since 0.1.0
 * @category models
 */
export interface DoneThread extends ThreadData {
  readonly status: "Done"
  readonly summary: string
}

/**
 * A thread that failed for good.
 *
 * @since 0.1.0
 * @category models
 */
export interface FailedThread extends ThreadData {
  readonly status: "Failed"
  readonly reason: string
}

/**
 * The state of a thread, discriminated by `status`.
 *
 * @since 0.1.0
 * @category models
 */
export type ThreadState = RunningThread | DoneThread | FailedThread

/**
 * The state before any event.
 *
 * @since 0.1.0
 * @category constructors
 */
export const initialThreadState: ThreadState = {
  status: "Idle",
  maxSteps: 0,
  system: undefined,
  history: Chunk.empty(),
  steps: 0,
  usage: { inputTokens: 0, outputTokens: 0 },
  calls: [],
  questions: []
}

const statusOf = (
  calls: ReadonlyArray<ToolCallState>,
  questions: ReadonlyArray<OpenQuestion>
): RunningThread["status"] =>
  questions.length > 0 ? "UserWait" : calls.some((c) => c.result === undefined) ? "Tools" : "Agent"

const updateCall = (
  calls: ReadonlyArray<ToolCallState>,
  callId: string,
  f: (call: ToolCallState) => ToolCallState
): ReadonlyArray<ToolCallState> => calls.map((c) => (c.call.id === callId ? f(c) : c))

const nameOf = (calls: ReadonlyArray<ToolCallState>, callId: string): string =>
  calls.find((c) => c.call.id === callId)?.call.name ?? ""

const withResult = (
  state: RunningThread,
  callId: string,
  name: string,
  result: ToolResult,
  questions: ReadonlyArray<OpenQuestion>
): RunningThread => {
  const calls = updateCall(state.calls, callId, (c) => ({ ...c, question: undefined, result }))
  return {
    ...state,
    status: statusOf(calls, questions),
    calls,
    questions,
    history: Chunk.append(state.history, {
      role: "tool",
      callId,
      name,
      result: result.output,
      isError: result.isError
    })
  }
}

const addUsage = (total: TokenUsage, more: TokenUsage): TokenUsage => ({
  inputTokens: total.inputTokens + more.inputTokens,
  outputTokens: total.outputTokens + more.outputTokens
})

/**
 * The history with `count` messages from `from` on replaced by one summary message. Chunk slices
 * and concatenation share structure: nothing of the history is copied here.
 */
const compactHistory = (
  history: Chunk.Chunk<ThreadMessage>,
  from: number,
  count: number,
  summary: string
): Chunk.Chunk<ThreadMessage> =>
  Chunk.appendAll(
    Chunk.append(Chunk.take(history, from), { role: "summary", text: summary }),
    Chunk.drop(history, from + count)
  )

const evolveRunning = (state: RunningThread, event: ThreadEvent): ThreadState => {
  switch (event._tag) {
    case "Prompted":
      return {
        ...state,
        status: "Agent",
        maxSteps: event.maxSteps,
        system: event.system,
        history: Chunk.append(state.history, { role: "user", text: event.prompt })
      }
    case "LlmCompleted": {
      const calls = event.toolCalls.map((call): ToolCallState => ({
        call,
        started: false,
        question: undefined,
        result: undefined
      }))
      return {
        ...state,
        status: statusOf(calls, []),
        steps: state.steps + 1,
        usage: addUsage(state.usage, event.usage),
        calls,
        questions: [],
        history: Chunk.append(state.history, {
          role: "assistant",
          text: event.text,
          toolCalls: event.toolCalls
        })
      }
    }
    case "AgentNudged":
      return { ...state, history: Chunk.append(state.history, { role: "user", text: event.message }) }
    case "ToolStarted":
      return { ...state, calls: updateCall(state.calls, event.callId, (c) => ({ ...c, started: true })) }
    case "ToolCompleted":
      return withResult(
        state,
        event.callId,
        event.name,
        { output: event.result, isError: event.isError },
        state.questions
      )
    case "UserQuestionAsked": {
      const calls = updateCall(state.calls, event.callId, (c) => ({ ...c, question: event.question }))
      const questions = [...state.questions, { callId: event.callId, question: event.question }]
      return { ...state, status: statusOf(calls, questions), calls, questions }
    }
    case "UserAnswered":
      return withResult(
        state,
        event.callId,
        nameOf(state.calls, event.callId),
        { output: event.answer, isError: false },
        state.questions.filter((q) => q.callId !== event.callId)
      )
    case "ThreadCompacted":
      return {
        ...state,
        usage: addUsage(state.usage, event.usage),
        history: compactHistory(state.history, event.from, event.replacedMessages, event.summary)
      }
    case "ThreadDone":
      return { ...state, status: "Done", summary: event.summary }
    case "ThreadFailed":
      return { ...state, status: "Failed", reason: event.reason }
  }
}

/**
 * Applies one event. Total and deterministic; `Done` and `Failed` absorb every later event.
 *
 * @since 0.1.0
 * @category folding
 */
export const evolveThread = (state: ThreadState, event: ThreadEvent): ThreadState =>
  state.status === "Done" || state.status === "Failed" ? state : evolveRunning(state, event)

/**
 * Calls of the current batch without a result, in call order.
 *
 * @since 0.1.0
 * @category getters
 */
export const pendingCalls = (state: ThreadState): ReadonlyArray<ToolCallState> =>
  state.calls.filter((c) => c.result === undefined)

/**
 * Calls the tool worker should run: no result, not started, not waiting for the user.
 *
 * @since 0.1.0
 * @category getters
 */
export const callsToRun = (state: ThreadState): ReadonlyArray<ToolCallState> =>
  state.calls.filter((c) => c.result === undefined && !c.started && c.question === undefined)

/**
 * Calls that were started and have no result and no open question. A tool worker that finds
 * such a call in a freshly folded state is not running it (the worker that was is gone), so it
 * reports it with `InterruptTool` instead of running it again.
 *
 * @since 0.1.0
 * @category getters
 */
export const callsInFlight = (state: ThreadState): ReadonlyArray<ToolCallState> =>
  state.calls.filter((c) => c.result === undefined && c.started && c.question === undefined)
