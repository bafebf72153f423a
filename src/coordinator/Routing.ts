/**
 * Smart routing for new users: a single thread for a focused request, a plan for work with
 * several steps. The model classifies the input in one short call; a heuristic decides when it
 * cannot.
 *
 * @since 0.1.0
 */
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Metrics from "../telemetry/Metrics.js"

/**
 * A route and why.
 *
 * @since 0.1.0
 * @category models
 */
export interface Route {
  readonly mode: "thread" | "plan"
  readonly reason: string
  readonly by: "model" | "heuristic"
}

/**
 * The fallback: several listed items, several steps in sequence, or a long text mean a plan.
 *
 * @since 0.1.0
 * @category routing
 */
export const heuristic = (input: string): Route => {
  const items = input.split("\n").filter((line) => /^\s*(\d+[.)]|[-*•])\s+/.test(line)).length
  if (items >= 3) return { mode: "plan", reason: `the input lists ${items} items`, by: "heuristic" }
  const steps = (input.match(/\b(then|after that|afterwards|finally|next)\b/gi) ?? []).length
  if (steps >= 2)
    return { mode: "plan", reason: "the input describes several steps in sequence", by: "heuristic" }
  if (input.length > 600) return { mode: "plan", reason: "the input is long", by: "heuristic" }
  return { mode: "thread", reason: "a single focused request", by: "heuristic" }
}

const classifierPrompt = [
  "Decide how a coding agent should handle the request below.",
  "Answer `thread` when one agent can do it in one focused session, or `plan` when it needs several",
  "distinct tasks (some possibly in parallel, or needing a question to the user first).",
  'Reply with one line: "thread: <short reason>" or "plan: <short reason>".'
].join(" ")

/**
 * Asks the model; falls back to {@link heuristic} when the call fails or the answer is unclear.
 *
 * @since 0.1.0
 * @category routing
 */
export const classify = (input: string): Effect.Effect<Route, never, LanguageModel.LanguageModel> =>
  LanguageModel.generateText({
    prompt: [
      { role: "system", content: classifierPrompt },
      { role: "user", content: [{ type: "text", text: input }] }
    ]
  }).pipe(
    Metrics.observeLlmCall("route", { messages: 2 }),
    Effect.map((response): Route => {
      const match = /^\W*(thread|plan)\W*[:\-–]?\s*(.*)$/im.exec(response.text.trim())
      if (match?.[1] === undefined)
        return { ...heuristic(input), reason: `${heuristic(input).reason} (the model's answer was unclear)` }
      const mode = match[1].toLowerCase() === "plan" ? "plan" : "thread"
      return { mode, reason: match[2]?.trim() || "the model's choice", by: "model" }
    }),
    Effect.catchAll(() =>
      Effect.succeed({
        ...heuristic(input),
        reason: `${heuristic(input).reason} (the model could not classify)`
      })
    )
  )
