/**
 * What the model sees: a thread's folded history as an `@effect/ai` prompt.
 *
 * @since 0.1.0
 */
import type * as Prompt from "@effect/ai/Prompt"
import * as Chunk from "effect/Chunk"
import { truncateToTokens } from "../thread/ThreadCompaction.js"
import type { ThreadMessage, ThreadState } from "../thread/ThreadState.js"

/**
 * The system prompt of a thread that did not bring its own.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSystemPrompt = [
  "You are a careful software engineer working in a sandboxed working directory.",
  "Use the tools to inspect files, write code and run commands; paths are relative to the working directory.",
  "Check your work by running it. When the task is complete, call `done` with a short summary;",
  "if validation fails you will see why and must fix it. Do not stop without calling `done`."
].join(" ")

/**
 * The system prompt a thread's next turn uses.
 *
 * @since 0.1.0
 * @category prompts
 */
export const systemOf = (state: ThreadState): string => state.system ?? defaultSystemPrompt

/**
 * How a compaction summary reads in the conversation: a user message that says what it is.
 *
 * @since 0.1.0
 * @category prompts
 */
export const summaryMessage = (summary: string): string =>
  `Summary of earlier work (it replaces the older messages of this conversation):\n${summary}`

/**
 * The messages for the next turn: system prompt, then every user, assistant and tool message
 * in the order they were recorded, with compaction summaries in place of what they replaced.
 *
 * @since 0.1.0
 * @category prompts
 */
export const fromState = (state: ThreadState): ReadonlyArray<Prompt.MessageEncoded> => {
  const messages: Array<Prompt.MessageEncoded> = [{ role: "system", content: systemOf(state) }]
  for (const message of Chunk.toReadonlyArray(state.history)) {
    switch (message.role) {
      case "user":
        messages.push({ role: "user", content: [{ type: "text", text: message.text }] })
        break
      case "summary":
        messages.push({ role: "user", content: [{ type: "text", text: summaryMessage(message.text) }] })
        break
      case "assistant":
        messages.push({
          role: "assistant",
          content: [
            ...(message.text === "" ? [] : [{ type: "text" as const, text: message.text }]),
            ...message.toolCalls.map((call) => ({
              type: "tool-call" as const,
              id: call.id,
              name: call.name,
              params: call.params,
              providerExecuted: false
            }))
          ]
        })
        break
      case "tool": {
        const part = {
          type: "tool-result" as const,
          id: message.callId,
          name: message.name,
          result: message.result,
          isFailure: message.isError,
          providerExecuted: false
        }
        const last = messages[messages.length - 1]
        // Results of one batch travel together in one tool message.
        if (last !== undefined && last.role === "tool")
          messages[messages.length - 1] = { ...last, content: [...last.content, part] }
        else messages.push({ role: "tool", content: [part] })
        break
      }
    }
  }
  return messages
}

const render = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value))

const transcriptEntry = (message: ThreadMessage): string => {
  switch (message.role) {
    case "user":
      return `User:\n${message.text}`
    case "summary":
      return `Summary of the work before:\n${message.text}`
    case "assistant": {
      const calls = message.toolCalls.map((call) => `[calls ${call.name} ${render(call.params)}]`)
      return `Assistant:\n${[message.text, ...calls].filter((part) => part !== "").join("\n")}`
    }
    case "tool":
      return `Result of ${message.name}${message.isError ? " (error)" : ""}:\n${render(message.result)}`
  }
}

/**
 * The messages a summary replaces, as one plain-text transcript of at most about `maxTokens`
 * estimated tokens. No message takes more than a quarter of that, so one huge tool output cannot
 * crowd out the rest; what is cut keeps its beginning and end.
 *
 * @since 0.1.0
 * @category compaction
 */
export const transcript = (messages: ReadonlyArray<ThreadMessage>, maxTokens: number): string =>
  truncateToTokens(
    messages
      .map((message) => truncateToTokens(transcriptEntry(message), Math.max(1, Math.floor(maxTokens / 4))))
      .join("\n\n"),
    maxTokens
  )

/**
 * The instructions for a thread's compaction summary.
 *
 * @since 0.1.0
 * @category compaction
 */
export const summarySystemPrompt = [
  "You compact the conversation of a coding agent working in a sandboxed directory.",
  "Write a summary that replaces the earlier part of the conversation you are given:",
  "the agent continues from the task, your summary and its latest messages only.",
  "Keep what it needs to go on: what was done (files created or changed, commands run and their outcome),",
  "facts and values it found, errors still open, decisions and why, and what the user answered.",
  "Drop verbose tool output, repetition and dead ends. Keep exact names of files, functions, commands",
  "and identifiers. Write plain text, no preamble."
].join(" ")

/**
 * The summary request: the thread's task for context, then the transcript to summarize, with
 * the size limit in tokens and roughly in words.
 *
 * @since 0.1.0
 * @category compaction
 */
export const summaryPrompt = (options: {
  readonly task: string | undefined
  readonly transcript: string
  readonly summaryTokens: number
}): ReadonlyArray<Prompt.MessageEncoded> => {
  const words = Math.max(1, Math.floor(options.summaryTokens * 0.75))
  const task =
    options.task === undefined
      ? ""
      : `The agent's task (it keeps seeing it, do not repeat it):\n<task>\n${options.task}\n</task>\n\n`
  return [
    { role: "system", content: summarySystemPrompt },
    {
      role: "user",
      content: `${task}Summarize the following part of its work in at most ${options.summaryTokens} tokens (about ${words} words).\n\n<conversation>\n${options.transcript}\n</conversation>`
    }
  ]
}
