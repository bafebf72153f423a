/**
 * The model side of planning: turns a user's input (with attachments and the compacted context)
 * into a validated task graph, and summarizes text to fit a token budget for compaction.
 *
 * It asks only for the abstract `LanguageModel` service, never a provider, and never writes
 * events: the PlannerWorker submits the plan (`SubmitPlan`) and records summaries
 * (`CompactContext`). A model answer that cannot be used is not an error: the model is asked once
 * to correct it, then the whole input becomes a single `processing` task with a warning.
 *
 * @since 0.1.0
 */
import type * as AiError from "@effect/ai/AiError"
import * as LanguageModel from "@effect/ai/LanguageModel"
import type * as Prompt from "@effect/ai/Prompt"
import type * as Response from "@effect/ai/Response"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Metrics from "../telemetry/Metrics.js"
import { charactersPerToken, estimateTokens } from "./Compaction.js"
import { type Attachment, type TaskSpec, validatePlan } from "./Plan.js"
import * as PlannerPrompts from "./PlannerPrompts.js"
import * as PlanParser from "./PlanParser.js"

/**
 * The model could not be asked: the provider failed (network, HTTP status, malformed response).
 * `operation` says which request; `reason` is the provider's message. The caller records it;
 * retrying transient HTTP failures is the provider layer's job.
 *
 * @since 0.1.0
 * @category errors
 */
export class PlannerModelError extends Schema.TaggedError<PlannerModelError>()("PlannerModelError", {
  operation: Schema.Literal("plan", "summarize"),
  reason: Schema.String
}) {
  override get message(): string {
    return `the planner's ${this.operation} request to the model failed: ${this.reason}`
  }
}

/**
 * Tokens spent, summed over every request one operation made.
 *
 * @since 0.1.0
 * @category models
 */
export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
}

/**
 * A plan that passed `validatePlan`, how it was read from the model (`fallback` when it could
 * not be), what was repaired or went wrong along the way, and the tokens spent.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlanResult {
  readonly tasks: ReadonlyArray<TaskSpec>
  readonly format: PlanParser.PlanFormat
  readonly warnings: ReadonlyArray<string>
  readonly usage: Usage
}

/**
 * @since 0.1.0
 * @category tags
 */
export class LlmPlanner extends Context.Tag("dabgent/LlmPlanner")<
  LlmPlanner,
  {
    /**
     * Plans `input`. The result always holds a valid plan: the model's, its corrected one
     * after a single re-ask, or one `processing` task with the whole input.
     */
    readonly plan: (
      input: string,
      attachments: ReadonlyArray<Attachment>,
      context?: string
    ) => Effect.Effect<PlanResult, PlannerModelError>
    /**
     * A summary of `text` of at most `budget` estimated tokens (`text` itself when it already
     * fits, a truncated summary as the last resort).
     */
    readonly summarize: (text: string, budget: number) => Effect.Effect<string, PlannerModelError>
  }
>() {}

/** The parts of a model response the planner reads. */
interface ModelAnswer {
  readonly text: string
  readonly finishReason: Response.FinishReason
  readonly usage: Response.Usage
}

const addUsage = (usage: Usage, response: ModelAnswer): Usage => ({
  inputTokens: usage.inputTokens + (response.usage.inputTokens ?? 0),
  outputTokens: usage.outputTokens + (response.usage.outputTokens ?? 0)
})

const noUsage: Usage = { inputTokens: 0, outputTokens: 0 }

/** What makes a parsed plan unusable, or nothing when it can be submitted. */
const problemOf = (parsed: PlanParser.ParsedPlan): Effect.Effect<string | undefined> =>
  parsed.format === "fallback"
    ? Effect.succeed(parsed.warnings[parsed.warnings.length - 1] ?? "no plan found")
    : Effect.match(validatePlan(parsed.tasks), {
        onFailure: (error) => error.message,
        onSuccess: () => undefined
      })

const lengthWarning = (response: ModelAnswer, attempt: string): Array<string> =>
  response.finishReason === "length" ? [`the ${attempt} answer was cut off at the model's output limit`] : []

const truncationNote = (budget: number): string => `\n[... truncated to fit ${budget} tokens]`

/**
 * `text` cut to at most `budget` estimated tokens, with a marker when it was cut (and the marker
 * fits).
 *
 * @since 0.1.0
 * @category compaction
 */
export const truncateToBudget = (text: string, budget: number): string => {
  const maxChars = Math.max(0, Math.floor(budget)) * charactersPerToken
  if (text.length <= maxChars) return text
  const note = truncationNote(budget)
  if (note.length >= maxChars) return text.slice(0, maxChars)
  return text.slice(0, maxChars - note.length) + note
}

/**
 * Builds the planner over the `LanguageModel` in the context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<LlmPlanner["Type"], never, LanguageModel.LanguageModel> = Effect.gen(
  function* () {
    const model = yield* LanguageModel.LanguageModel
    const ask = (
      operation: PlannerModelError["operation"],
      prompt: ReadonlyArray<Prompt.MessageEncoded>
    ): Effect.Effect<ModelAnswer, PlannerModelError> =>
      model.generateText({ prompt }).pipe(
        Metrics.observeLlmCall(operation, { messages: prompt.length }),
        Effect.map((response): ModelAnswer => ({
          text: response.text,
          finishReason: response.finishReason,
          usage: response.usage
        })),
        Effect.mapError(
          (error: AiError.AiError) => new PlannerModelError({ operation, reason: error.message })
        )
      )

    const plan = (
      input: string,
      attachments: ReadonlyArray<Attachment>,
      context?: string
    ): Effect.Effect<PlanResult, PlannerModelError> =>
      Effect.gen(function* () {
        const prompt = PlannerPrompts.planningPrompt(input, attachments, context)
        const first = yield* ask("plan", prompt)
        let usage = addUsage(noUsage, first)
        const parsed = PlanParser.parse(first.text)
        const firstWarnings = [...lengthWarning(first, "first"), ...parsed.warnings]
        const problem = yield* problemOf(parsed)
        if (problem === undefined) return { ...parsed, warnings: firstWarnings, usage }

        const rejected = [
          ...firstWarnings.filter((warning) => warning !== problem),
          `plan rejected: ${problem}`
        ]
        const second = yield* Effect.either(
          ask("plan", PlannerPrompts.repairPrompt(prompt, first.text, problem))
        )
        if (Either.isLeft(second))
          return {
            ...PlanParser.fallback(
              input,
              `re-asking failed (${second.left.reason}); planned the whole input as one task`,
              rejected
            ),
            usage
          }
        usage = addUsage(usage, second.right)
        const retried = PlanParser.parse(second.right.text)
        const retryWarnings = [...rejected, ...lengthWarning(second.right, "second"), ...retried.warnings]
        const retryProblem = yield* problemOf(retried)
        if (retryProblem === undefined) return { ...retried, warnings: retryWarnings, usage }
        return {
          ...PlanParser.fallback(
            input,
            `the corrected plan was rejected too (${retryProblem}); planned the whole input as one task`,
            retryWarnings.filter((warning) => warning !== retryProblem)
          ),
          usage
        }
      })

    const summarize = (text: string, budget: number): Effect.Effect<string, PlannerModelError> =>
      Effect.gen(function* () {
        const limit = Math.max(1, Math.floor(budget))
        if (estimateTokens(text) <= limit) return text
        const response = yield* ask("summarize", PlannerPrompts.summaryPrompt(text, limit))
        const summary = response.text.trim()
        // An empty answer would erase the context; keep what fits of the original instead.
        return truncateToBudget(summary === "" ? text : summary, limit)
      })

    return LlmPlanner.of({ plan, summarize })
  }
)

/**
 * The planner as a layer over the `LanguageModel` in the context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<LlmPlanner, never, LanguageModel.LanguageModel> = Layer.effect(
  LlmPlanner,
  make
)
