/**
 * What the model sees: a thread's folded history as an `@effect/ai` prompt.
 *
 * @since 0.1.0
 */
import * as Prompt from "@effect/ai/Prompt"
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

const systemMessages = new Map<string, Prompt.SystemMessage>()

const systemMessage = (text: string): Prompt.SystemMessage => {
  const cached = systemMessages.get(text)
  if (cached !== undefined) return cached
  const message = Prompt.makeMessage("system", { content: text })
  // A handful of distinct system prompts per process; the bound only guards against misuse.
  if (systemMessages.size < 64) systemMessages.set(text, message)
  return message
}

const userMessage = (text: string): Prompt.UserMessage =>
  Prompt.makeMessage("user", { content: [Prompt.makePart("text", { text })] })

const buildMessage = (message: Exclude<ThreadMessage, { readonly role: "tool" }>): Prompt.Message => {
  switch (message.role) {
    case "user":
      return userMessage(message.text)
    case "summary":
      return userMessage(summaryMessage(message.text))
    case "assistant":
      return Prompt.makeMessage("assistant", {
        content: [
          ...(message.text === "" ? [] : [Prompt.makePart("text", { text: message.text })]),
          ...message.toolCalls.map((call) =>
            Prompt.makePart("tool-call", {
              id: call.id,
              name: call.name,
              params: call.params,
              providerExecuted: false
            })
          )
        ]
      })
  }
}

const resultPart = (message: Extract<ThreadMessage, { readonly role: "tool" }>): Prompt.ToolResultPart =>
  Prompt.makePart("tool-result", {
    id: message.callId,
    name: message.name,
    result: message.result,
    isFailure: message.isError,
    providerExecuted: false
  })

/**
 * Built messages, per history entry. History entries are immutable and shared between the
 * successive states of a thread, so each entry is built once and every later turn reuses it.
 * A run of tool results (one tool message) is keyed by its first entry, with the run's length.
 */
const built = new WeakMap<ThreadMessage, Prompt.Message>()
const toolRuns = new WeakMap<
  ThreadMessage,
  { readonly length: number; readonly message: Prompt.ToolMessage }
>()

/**
 * The prompt for the next turn: system prompt, then every user, assistant and tool message in
 * the order they were recorded, with compaction summaries in place of what they replaced.
 *
 * The messages are built as `Prompt` values (no Schema decoding: `Prompt.make` and the
 * providers take a `Prompt` as it is) and cached per history entry, so a turn costs a walk over
 * the history plus building its new entries, not a re-encode and re-decode of the whole thread.
 *
 * @since 0.1.0
 * @category prompts
 */
export const fromState = (state: ThreadState): Prompt.Prompt => {
  const history = Chunk.toReadonlyArray(state.history)
  const messages: Array<Prompt.Message> = [systemMessage(systemOf(state))]
  let index = 0
  while (index < history.length) {
    const message = history[index]
    if (message === undefined) break
    if (message.role !== "tool") {
      let cached = built.get(message)
      if (cached === undefined) {
        cached = buildMessage(message)
        built.set(message, cached)
      }
      messages.push(cached)
      index++
      continue
    }
    // Results of one batch travel together in one tool message.
    const results: Array<Extract<ThreadMessage, { readonly role: "tool" }>> = []
    for (let entry = history[index]; entry?.role === "tool"; entry = history[++index]) results.push(entry)
    const cached = toolRuns.get(message)
    if (cached !== undefined && cached.length === results.length) messages.push(cached.message)
    else {
      const run = Prompt.makeMessage("tool", { content: results.map(resultPart) })
      toolRuns.set(message, { length: results.length, message: run })
      messages.push(run)
    }
  }
  return Prompt.fromMessages(messages)
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
