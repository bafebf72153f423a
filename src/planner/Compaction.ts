/**
 * Token budgets for the planner's context and for long threads: a cheap token estimate, the
 * test for "too large", the planner context that a summary would replace, and which oldest turns
 * of a thread to summarize so the rest fits. All pure; the model call lives in `LlmPlanner`.
 *
 * @since 0.1.0
 */
import { isTerminalStatus, type PlannerState, type TaskId, taskList } from "./PlannerState.js"

/**
 * Characters per token assumed by {@link estimateTokens}: about right for English prose and
 * code with the common tokenizers, and deliberately provider-neutral.
 *
 * @since 0.1.0
 * @category constants
 */
export const charactersPerToken = 4

/**
 * A rough token count (`chars / 4`, rounded up). Good enough to decide when to compact; never
 * used for billing.
 *
 * @since 0.1.0
 * @category estimation
 */
export const estimateTokens = (text: string): number => Math.ceil(text.length / charactersPerToken)

/**
 * Whether the texts together pass the budget (in estimated tokens).
 *
 * @since 0.1.0
 * @category estimation
 */
export const needsCompaction = (texts: ReadonlyArray<string>, budget: number): boolean => {
  let total = 0
  for (const text of texts) {
    total += estimateTokens(text)
    if (total > budget) return true
  }
  return false
}

/**
 * The planner context a summary would replace: the current context summary followed by the
 * result of every finished task not yet compacted, and the ids of those tasks (what
 * `CompactContext` drops once the summary covers them).
 *
 * @since 0.1.0
 * @category planner context
 */
export const plannerContext = (
  state: PlannerState
): { readonly text: string; readonly taskIds: ReadonlyArray<TaskId> } => {
  const finished = taskList(state).filter(
    (task) => isTerminalStatus(task.status) && !task.compacted && task.result !== undefined
  )
  const sections: Array<string> = []
  if (state.contextSummary !== "") sections.push(`Summary so far:\n${state.contextSummary}`)
  for (const task of finished) {
    sections.push(`Task ${task.id} (${task.status}): ${task.description}\nResult:\n${task.result ?? ""}`)
  }
  return { text: sections.join("\n\n"), taskIds: finished.map((task) => task.id) }
}

/**
 * One message of a thread as far as compaction cares: its estimated size and whether it starts
 * a group. A group is a unit that must stay whole, such as an assistant turn followed by the
 * results of its tool calls: only the first message of the group has `groupStart: true`.
 *
 * @since 0.1.0
 * @category thread compaction
 */
export interface SizedMessage {
  readonly tokens: number
  readonly groupStart: boolean
}

/**
 * How many of the oldest messages to summarize so that the messages after them fit in `budget`
 * tokens. The cut always falls at the start of a group (the first message counts as one) and
 * never inside the last `keepRecent` groups, which stay verbatim.
 *
 * Returns the smallest such count, `0` when everything already fits (or nothing may be cut),
 * and the largest allowed count when no cut is enough: summarizing as much as allowed is the
 * best the caller can do.
 *
 * @since 0.1.0
 * @category thread compaction
 */
export const selectOlderTurns = (
  messages: ReadonlyArray<SizedMessage>,
  budget: number,
  keepRecent: number
): number => {
  // Cut points: indices where a group starts; index 0 is never useful (nothing summarized).
  const starts: Array<number> = []
  messages.forEach((message, index) => {
    if (index > 0 && message.groupStart) starts.push(index)
  })
  // The last `keepRecent` groups are kept: drop the cut points inside them. Group i (of
  // `starts.length + 1` groups) starts at index 0 for i = 0 and at starts[i - 1] otherwise.
  const groups = starts.length + 1
  const keep = Math.max(0, Math.floor(keepRecent))
  const allowed = starts.slice(0, Math.max(0, groups - keep))
  // With no kept group, summarizing everything is allowed too.
  if (keep === 0 && messages.length > 0) allowed.push(messages.length)

  const suffix: Array<number> = new Array<number>(messages.length + 1).fill(0)
  for (let index = messages.length - 1; index >= 0; index--) {
    suffix[index] = (suffix[index + 1] ?? 0) + (messages[index]?.tokens ?? 0)
  }
  if ((suffix[0] ?? 0) <= budget) return 0
  for (const cut of allowed) {
    if ((suffix[cut] ?? 0) <= budget) return cut
  }
  return allowed[allowed.length - 1] ?? 0
}
