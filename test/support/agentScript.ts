/**
 * A scripted model that behaves like a small coding agent, deciding from what it receives:
 * write a script, run it, then call `done`. Used by the worker tests and the CLI end-to-end tests.
 */
import type * as Prompt from "@effect/ai/Prompt"
import type { Reply, Request } from "../../src/testing/ScriptedLanguageModel.js"

/** The tool results the model has seen so far in this thread, oldest first. */
export const toolResults = (
  prompt: Prompt.Prompt
): ReadonlyArray<{ name: string; result: unknown; isFailure: boolean }> =>
  prompt.content.flatMap((message) =>
    message.role === "tool"
      ? message.content.map((part) => ({ name: part.name, result: part.result, isFailure: part.isFailure }))
      : []
  )

/** The first user message: the thread's prompt. */
export const promptText = (prompt: Prompt.Prompt): string => {
  for (const message of prompt.content) {
    if (message.role === "user") {
      for (const part of message.content) if (part.type === "text") return part.text
    }
  }
  return ""
}

/** write `hello.sh` → run it with bash → done. */
export const writeRunDone =
  (file = "hello.sh", content = "echo hello from the agent\n") =>
  (request: Request): Reply => {
    const seen = toolResults(request.prompt)
    const last = seen[seen.length - 1]
    if (last === undefined) {
      return {
        text: "I'll write the script.",
        toolCalls: [{ name: "write_file", params: { path: file, content } }],
        usage: { inputTokens: 100, outputTokens: 20 }
      }
    }
    if (last.name === "write_file") {
      return {
        text: "Now run it.",
        toolCalls: [{ name: "bash", params: { command: `bash ${file}` } }],
        usage: { inputTokens: 150, outputTokens: 10 }
      }
    }
    return {
      text: "Finished.",
      toolCalls: [{ name: "done", params: { summary: `ran ${file}: ${String(last.result).trim()}` } }],
      usage: { inputTokens: 200, outputTokens: 15 }
    }
  }
