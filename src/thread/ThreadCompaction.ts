/**
 * Compaction of long threads: how large a thread's prompt is (a cheap token estimate), which of
 * its oldest messages a summary should replace once the prompt passes its budget, and that budget
 * as a context reference the LLM worker reads. Pure: the summary call lives in the LLM worker,
 * and the summary is recorded with the `Compact` command as a `ThreadCompacted` event.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { ThreadMessage } from "./ThreadState.js"

/**
 * Characters per token assumed by {@link estimateTokens}: about right for English prose and code
 * with the common tokenizers, and provider-neutral.
 *
 * @since 0.1.0
 * @category estimation
 */
export const charactersPerToken = 4

/**
 * Tokens counted for each message on top of its content (role markers and framing).
 *
 * @since 0.1.0
 * @category estimation
 */
export const messageOverheadTokens = 4

/**
 * A rough token count (`chars / 4`, rounded up): good enough to decide when to compact, never
 * used for billing.
 *
 * @since 0.1.0
 * @category estimation
 */
export const estimateTokens = (text: string): number => Math.ceil(text.length / charactersPerToken)

const render = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value))

/**
 * The estimated size of one history message as the model receives it: text, tool calls with
 * their arguments, and tool results.
 *
 * @since 0.1.0
 * @category estimation
 */
export const messageTokens = (message: ThreadMessage): number => {
  // History entries are immutable and every turn re-plans over the whole history: each entry is
  // measured (and its params / result stringified) once.
  const cached = measured.get(message)
  if (cached !== undefined) return cached
  const tokens = measure(message)
  measured.set(message, tokens)
  return tokens
}

const measured = new WeakMap<ThreadMessage, number>()

const measure = (message: ThreadMessage): number => {
  switch (message.role) {
    case "user":
    case "summary":
      return messageOverheadTokens + estimateTokens(message.text)
    case "assistant": {
      let tokens = messageOverheadTokens + estimateTokens(message.text)
      for (const call of message.toolCalls)
        tokens += estimateTokens(call.id + call.name + render(call.params))
      return tokens
    }
    case "tool":
      return messageOverheadTokens + estimateTokens(message.callId + message.name + render(message.result))
  }
}

/**
 * Whether a compaction range may start or end at `index` of the history: at a message that
 * begins a turn (anything but a tool result, which belongs to the assistant turn before it) or
 * at the end of the history.
 *
 * @since 0.1.0
 * @category compaction
 */
export const isTurnBoundary = (history: Chunk.Chunk<ThreadMessage>, index: number): boolean =>
  index === Chunk.size(history) ||
  Option.match(Chunk.get(history, index), { onNone: () => false, onSome: (m) => m.role !== "tool" })

/**
 * When and how much to compact.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompactionPolicy {
  /**
   * Estimated prompt tokens (system prompt, tool definitions and history) above which the oldest
   * turns are summarized before the next turn. Compaction then aims at half of it, so that it
   * happens every few turns rather than before every turn.
   */
  readonly budget: number
  /** The latest turns (an assistant message with its tool results, or a user message) kept verbatim. */
  readonly keepRecent: number
  /** The largest summary, in estimated tokens; a longer answer is truncated. */
  readonly summaryTokens: number
}

/**
 * The default budget: fits the context of every current hosted model with room for the answer.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBudget = 60_000

/**
 * The default number of latest turns never summarized.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultKeepRecent = 4

/**
 * A policy from partial options: the budget defaults to {@link defaultBudget}, `keepRecent` to
 * {@link defaultKeepRecent} and the summary to an eighth of the budget.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePolicy = (options: Partial<CompactionPolicy> = {}): CompactionPolicy => {
  const budget = Math.max(1, Math.floor(options.budget ?? defaultBudget))
  return {
    budget,
    keepRecent: Math.max(0, Math.floor(options.keepRecent ?? defaultKeepRecent)),
    summaryTokens: Math.max(1, Math.floor(options.summaryTokens ?? budget / 8))
  }
}

/**
 * The compaction policy the LLM worker uses. A context reference: without a layer the worker
 * uses {@link makePolicy}'s defaults (a 60,000-token budget).
 *
 * @since 0.1.0
 * @category services
 */
export class ThreadCompaction extends Context.Reference<ThreadCompaction>()("dabgent/ThreadCompaction", {
  defaultValue: (): CompactionPolicy => makePolicy()
}) {
  /**
   * A policy from plain options (missing ones take their defaults).
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layer = (options: Partial<CompactionPolicy> = {}): Layer.Layer<ThreadCompaction> =>
    Layer.succeed(ThreadCompaction, makePolicy(options))

  /**
   * The budget from `DABGENT_CONTEXT_BUDGET` (a positive integer, in tokens; default 60,000),
   * the rest from the defaults.
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerConfig: Layer.Layer<ThreadCompaction, ConfigError.ConfigError> = Layer.effect(
    ThreadCompaction,
    Effect.map(
      Config.integer("DABGENT_CONTEXT_BUDGET").pipe(
        Config.validate({ message: "expected a positive number of tokens", validation: (n) => n > 0 }),
        Config.withDefault(defaultBudget)
      ),
      (budget) => makePolicy({ budget })
    )
  )
}

/**
 * Which messages a summary replaces: `replacedMessages` messages from index `from` on.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompactionPlan {
  readonly from: number
  readonly replacedMessages: number
}

/**
 * Whether the history passes the budget, and if so which of its oldest messages to summarize.
 * `overheadTokens` is the part of the prompt outside the history (system prompt, tool
 * definitions).
 *
 * The task prompt (the first message) stays verbatim and so do the last `keepRecent` turns; the
 * range never separates an assistant turn from its tool results. It is the shortest one after
 * which the prompt, with a summary of at most `summaryTokens`, fits half the budget, or the
 * longest allowed one when none does. `undefined` when the prompt fits, or when no range would
 * make it smaller (say, only the previous summary could be replaced): then the turn goes ahead
 * over budget rather than summarizing a summary forever.
 *
 * @since 0.1.0
 * @category compaction
 */
export const planCompaction = (
  history: Chunk.Chunk<ThreadMessage>,
  overheadTokens: number,
  policy: CompactionPolicy
): CompactionPlan | undefined => {
  const messages = Chunk.toReadonlyArray(history)
  const sizes = messages.map(messageTokens)
  // suffix[i]: tokens of messages i.. (suffix[length] = 0).
  const suffix = new Array<number>(messages.length + 1).fill(0)
  for (let i = messages.length - 1; i >= 0; i--) suffix[i] = (suffix[i + 1] ?? 0) + (sizes[i] ?? 0)
  const total = overheadTokens + (suffix[0] ?? 0)
  if (total <= policy.budget) return undefined

  const from = messages[0]?.role === "user" ? 1 : 0
  // Turns after `from`: the first starts at `from`, the others at `starts`.
  const starts: Array<number> = []
  for (let i = from + 1; i < messages.length; i++) if (messages[i]?.role !== "tool") starts.push(i)
  const ends =
    policy.keepRecent === 0
      ? [...starts, messages.length]
      : starts.slice(0, Math.max(0, starts.length + 1 - policy.keepRecent))

  const kept = total - (suffix[from] ?? 0)
  const summary = policy.summaryTokens + messageOverheadTokens
  const target = Math.floor(policy.budget / 2)
  const end = ends.find((e) => kept + summary + (suffix[e] ?? 0) <= target) ?? ends[ends.length - 1]
  if (end === undefined) return undefined
  const replaced = (suffix[from] ?? 0) - (suffix[end] ?? 0)
  return replaced > summary ? { from, replacedMessages: end - from } : undefined
}

/**
 * `text` cut to about `tokens` estimated tokens, keeping its beginning and its end around a note
 * saying how much was left out.
 *
 * @since 0.1.0
 * @category compaction
 */
export const truncateToTokens = (text: string, tokens: number): string => {
  const limit = Math.max(0, Math.floor(tokens)) * charactersPerToken
  if (text.length <= limit) return text
  const note = (omitted: number) => `\n… [${omitted} characters omitted] …\n`
  const room = limit - note(text.length).length
  if (room < 2) return text.slice(0, limit)
  const head = Math.ceil(room / 2)
  return text.slice(0, head) + note(text.length - room) + text.slice(text.length - (room - head))
}
