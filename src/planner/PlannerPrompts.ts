/**
 * What the planner says to the model: the planning instructions (task kinds, dependencies,
 * parallelism, the `{"tasks": [...]}` answer format), the user's input with its attachments
 * and the compacted context, the request to repair a rejected plan, and the summary request
 * used for compaction.
 *
 * @since 0.1.0
 */
import type * as Prompt from "@effect/ai/Prompt"
import type { Attachment } from "./Plan.js"

/**
 * The planner's instructions. The answer format is JSON; the parser also accepts the original
 * dabgent's XML, so models tuned on it still work.
 *
 * @since 0.1.0
 * @category prompts
 */
export const planningSystemPrompt = `You are the planner of a coding agent. You do not do the work yourself: you split the user's request into tasks that agents will execute.

Each task has:
- "id": a short unique string ("1", "2", ... is fine).
- "description": a self-contained instruction. The agent that runs it sees only this description and the results of the tasks it depends on, not the user's original message, so repeat every detail it needs (file names, versions, constraints).
- "kind", one of:
  - "tool_call": work in the repository or the shell: read, write or run files, install, build, test.
  - "processing": thinking without side effects: analyse, design, compare, summarise, write text.
  - "clarification": a question only the user can answer. Its description is the question. Use it only when the request is ambiguous in a way that changes the work, never for details you can decide yourself.
- "dependencies": the ids of the tasks that must finish before this one starts (an empty list if none).

Tasks whose dependencies are met run in parallel, so only add a dependency when a task really needs another's result or changes; independent work should not depend on each other. Dependencies must name tasks of the plan and must not form a cycle. Prefer a few substantial tasks over many tiny ones; a simple request can be a single task.

Answer with JSON only, in exactly this form:
{"tasks": [{"id": "1", "description": "...", "kind": "tool_call", "dependencies": []}]}`

/**
 * Escapes the characters that would end an attribute or open a tag in the prompt's markup.
 */
const attribute = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/**
 * The attachments as the model reads them: each in an `<attachment source="...">` block with
 * its content, or an empty one saying it was not read (URLs are never fetched).
 *
 * @since 0.1.0
 * @category prompts
 */
export const renderAttachments = (attachments: ReadonlyArray<Attachment>): string =>
  attachments
    .map((attachment) =>
      attachment.content === undefined
        ? `<attachment source="${attribute(attachment.source)}" read="false"/>`
        : `<attachment source="${attribute(attachment.source)}">\n${attachment.content}\n</attachment>`
    )
    .join("\n")

/**
 * The user message of a planning request: the context summary of earlier work (when there is
 * one), the attachments, then the request itself.
 *
 * @since 0.1.0
 * @category prompts
 */
export const planningUserPrompt = (
  input: string,
  attachments: ReadonlyArray<Attachment>,
  context?: string
): string => {
  const sections: Array<string> = []
  if (context !== undefined && context.trim() !== "")
    sections.push(`Context from earlier work (a summary):\n<context>\n${context.trim()}\n</context>`)
  if (attachments.length > 0)
    sections.push(
      `Material the user referred to (attachments that were not read are listed without content; URLs are not fetched):\n${renderAttachments(attachments)}`
    )
  sections.push(`The request to plan:\n<request>\n${input}\n</request>`)
  sections.push(`Answer with the plan as {"tasks": [...]} JSON only.`)
  return sections.join("\n\n")
}

/**
 * The whole planning prompt: system instructions plus the user message.
 *
 * @since 0.1.0
 * @category prompts
 */
export const planningPrompt = (
  input: string,
  attachments: ReadonlyArray<Attachment>,
  context?: string
): ReadonlyArray<Prompt.MessageEncoded> => [
  { role: "system", content: planningSystemPrompt },
  { role: "user", content: planningUserPrompt(input, attachments, context) }
]

/**
 * The follow-up when a plan was rejected: the model's own answer, then what was wrong with it
 * and the request to answer again with a whole corrected plan.
 *
 * @since 0.1.0
 * @category prompts
 */
export const repairPrompt = (
  original: ReadonlyArray<Prompt.MessageEncoded>,
  answer: string,
  problem: string
): ReadonlyArray<Prompt.MessageEncoded> => [
  ...original,
  { role: "assistant", content: answer === "" ? "(empty answer)" : answer },
  {
    role: "user",
    content: `That plan cannot be used: ${problem}\nAnswer again with the complete corrected plan as {"tasks": [...]} JSON only: every id unique, every dependency naming a task of the plan, no cycles.`
  }
]

/**
 * The instructions for compaction: keep what later tasks need, drop the rest.
 *
 * @since 0.1.0
 * @category prompts
 */
export const summarySystemPrompt = `You compact the working context of a coding agent. Write a summary that replaces the text you are given: later steps will see only your summary.

Keep: decisions made and why, results of finished tasks (files created or changed, commands that worked, values found), open problems and errors, and anything the user asked for or answered. Drop: repetition, verbose logs and tool output, and reasoning that led nowhere. Keep exact names of files, functions, commands and identifiers. Write plain text, no preamble.`

/**
 * The user message of a summary request, with the size limit in tokens and roughly in words.
 *
 * @since 0.1.0
 * @category prompts
 */
export const summaryUserPrompt = (text: string, budgetTokens: number): string =>
  `Summarize the following in at most ${budgetTokens} tokens (about ${Math.max(1, Math.floor(budgetTokens * 0.75))} words).\n\n<text>\n${text}\n</text>`

/**
 * The whole summary prompt.
 *
 * @since 0.1.0
 * @category prompts
 */
export const summaryPrompt = (text: string, budgetTokens: number): ReadonlyArray<Prompt.MessageEncoded> => [
  { role: "system", content: summarySystemPrompt },
  { role: "user", content: summaryUserPrompt(text, budgetTokens) }
]
