/**
 * Decides whether finished work is accepted when the agent calls `done`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Sandbox } from "../sandbox/Sandbox.js"

/**
 * The verdict: accepted or not, and what the model should read either way.
 *
 * @since 0.1.0
 * @category models
 */
export interface Verdict {
  readonly accepted: boolean
  readonly output: string
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Validator extends Context.Tag("dabgent/Validator")<
  Validator,
  { readonly validate: Effect.Effect<Verdict>; readonly description: string }
>() {}

/**
 * Accepts everything (no `--validate` given).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAcceptAll: Layer.Layer<Validator> = Layer.succeed(Validator, {
  validate: Effect.succeed({ accepted: true, output: "no validator configured; accepted" }),
  description: "none"
})

const tail = (text: string, max: number) => (text.length > max ? `…${text.slice(text.length - max)}` : text)

/**
 * Runs a shell command in the sandbox (e.g. `npm test`); exit code 0 accepts. Its output goes
 * back to the model when it fails.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerCommand = (
  command: string,
  options: { readonly timeout?: Duration.DurationInput } = {}
): Layer.Layer<Validator, never, Sandbox> =>
  Layer.effect(
    Validator,
    Effect.map(Sandbox, (sandbox) => ({
      description: command,
      validate: sandbox.exec(command, { timeout: options.timeout ?? Duration.minutes(10) }).pipe(
        Effect.map((result) => {
          const output = [result.stdout, result.stderr].filter((s) => s.trim() !== "").join("\n")
          if (result.exitCode === 0) return { accepted: true, output: `validation passed: ${command}` }
          const status = result.timedOut
            ? "timed out"
            : `exit code ${result.exitCode ?? result.signal ?? "?"}`
          return {
            accepted: false,
            output: `validation failed: \`${command}\` ended with ${status}.\n${tail(output, 8000)}`
          }
        }),
        Effect.catchAll((error) =>
          Effect.succeed({ accepted: false, output: `validation could not run: ${error.message}` })
        )
      )
    }))
  )

/**
 * `layerCommand` when a command is given, else `layerAcceptAll`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (command: string | undefined): Layer.Layer<Validator, never, Sandbox> =>
  command === undefined || command.trim() === "" ? layerAcceptAll : layerCommand(command)
