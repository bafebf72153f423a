/**
 * What the model sees: a thread's folded history as an `@effect/ai` prompt.
 *
 * @since 0.1.0
 */
import type * as Prompt from "@effect/ai/Prompt"
import * as Chunk from "effect/Chunk"
import type { ThreadState } from "../thread/ThreadState.js"

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
 * The messages for the next turn: system prompt, then every user, assistant and tool message
 * in the order they were recorded.
 *
 * @since 0.1.0
 * @category prompts
 */
export const fromState = (state: ThreadState): ReadonlyArray<Prompt.MessageEncoded> => {
  const messages: Array<Prompt.MessageEncoded> = [
    { role: "system", content: state.system ?? defaultSystemPrompt }
  ]
  for (const message of Chunk.toReadonlyArray(state.history)) {
    switch (message.role) {
      case "user":
        messages.push({ role: "user", content: [{ type: "text", text: message.text }] })
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
