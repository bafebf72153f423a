/**
 * The live view of a session: one line per model turn (tokens, time) and per tool call
 * (arguments in short, exit status, time), and how the thread ended.
 *
 * @since 0.1.0
 */
import type { StoredEvent } from "../store/StoredEvent.js"
import type { ThreadEvent, ToolCall } from "../thread/ThreadEvent.js"

const shorten = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

const argsInShort = (call: ToolCall | undefined): string => {
  if (call === undefined) return ""
  const params = call.params
  if (typeof params !== "object" || params === null) return shorten(JSON.stringify(params) ?? "", 60)
  const entries = Object.entries(params).map(([key, value]) =>
    key === "content" && typeof value === "string"
      ? `${key}: <${value.length} chars>`
      : `${key}: ${JSON.stringify(value)}`
  )
  return shorten(entries.join(", "), 80)
}

const statusOf = (result: unknown, isError: boolean): string => {
  const text = typeof result === "string" ? result : JSON.stringify(result)
  const exit = /^exit code (\d+)/.exec(text)
  if (exit) return `exit ${exit[1]}`
  if (/^timed out/.test(text)) return "timed out"
  if (/^interrupted/.test(text)) return "interrupted"
  return isError ? shorten(text, 80) : "ok"
}

/**
 * Renders a session's events as they arrive; keeps the little it needs between events.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (stepsSoFar = 0) => {
  const calls = new Map<string, ToolCall>()
  const started = new Map<string, number>()
  let previousAt: number | undefined
  let step = stepsSoFar

  return (event: ThreadEvent, stored: StoredEvent): ReadonlyArray<string> => {
    const at = stored.createdAt.getTime()
    const since = previousAt === undefined ? 0 : at - previousAt
    previousAt = at
    switch (event._tag) {
      case "Prompted":
        return [`▶ ${shorten(event.prompt, 100)}  (max ${event.maxSteps} steps)`]
      case "LlmCompleted": {
        for (const call of event.toolCalls) calls.set(call.id, call)
        step += 1
        const tools = event.toolCalls.length === 1 ? "1 tool call" : `${event.toolCalls.length} tool calls`
        const lines = [
          `● step ${step} · model ${seconds(since)} · in ${event.usage.inputTokens} / out ${event.usage.outputTokens} tokens · ${tools}`
        ]
        if (event.text.trim() !== "") lines.push(`  “${shorten(event.text, 110)}”`)
        return lines
      }
      case "ToolStarted":
        started.set(event.callId, at)
        return []
      case "ToolCompleted": {
        const begin = started.get(event.callId)
        const time = begin === undefined ? "" : ` · ${seconds(at - begin)}`
        const mark = event.isError ? "✗" : "✓"
        return [
          `  ${mark} ${event.name}(${argsInShort(calls.get(event.callId))}) → ${statusOf(event.result, event.isError)}${time}`
        ]
      }
      case "AgentNudged":
        return [`  ! the model answered without a tool call; reminded it to act or call done`]
      case "UserQuestionAsked":
        return [`  ? ${event.question}`]
      case "UserAnswered":
        return [`  ↳ answered: ${shorten(event.answer, 80)}`]
      case "ThreadCompacted":
        return [
          `  ≡ compacted ${event.replacedMessages} older messages into a summary (in ${event.usage.inputTokens} / out ${event.usage.outputTokens} tokens)`
        ]
      case "ThreadDone":
        return [`✔ done: ${shorten(event.summary, 200)}`]
      case "ThreadFailed":
        return [`✘ failed: ${shorten(event.reason, 200)}`]
    }
  }
}
