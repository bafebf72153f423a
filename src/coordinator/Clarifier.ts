/**
 * Who answers an agent's question while a session runs.
 *
 * When a thread asks the user (the `ask_user` tool), the run asks the `Clarifier` in its
 * context. In a terminal the question is printed and the answer read inline, so the run goes on;
 * without one (a CI job, a service, `--no-input`) there is no answer now, the run stops with the
 * session waiting (`UserWait`) and the answer comes later (`dabgent answer`, then `resume`).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as readline from "node:readline"

/**
 * A question for the user: which session and which aggregate in it asked (a planner session
 * has several), and the text.
 *
 * @since 0.1.0
 * @category models
 */
export interface Question {
  readonly sessionId: string
  readonly aggregateId: string
  readonly question: string
}

/**
 * Answers a question now, or `None` when no answer is available now (the session then waits for
 * one). Never fails: not being able to ask is the same as having no answer.
 *
 * @since 0.1.0
 * @category tags
 */
export class Clarifier extends Context.Tag("dabgent/Clarifier")<
  Clarifier,
  { readonly ask: (question: Question) => Effect.Effect<Option.Option<string>> }
>() {}

/**
 * Never answers: every question leaves the session waiting for `dabgent answer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNone: Layer.Layer<Clarifier> = Layer.succeed(Clarifier, {
  ask: () => Effect.succeedNone
})

/**
 * Answers the questions in order with `answers`, then answers no more (for tests and scripts).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerScripted = (answers: ReadonlyArray<string>): Layer.Layer<Clarifier> =>
  Layer.sync(Clarifier, () => {
    let next = 0
    return {
      ask: () =>
        Effect.sync(() => {
          const answer = answers[next]
          if (answer === undefined) return Option.none()
          next += 1
          return Option.some(answer)
        })
    }
  })

/**
 * Where a line-reading clarifier reads and writes.
 *
 * @since 0.1.0
 * @category models
 */
export interface LineOptions {
  /** Where answers come from, one per line. */
  readonly input: NodeJS.ReadableStream
  /** Where questions are printed. */
  readonly output: NodeJS.WritableStream
  /**
   * Drop lines that arrive while no question is asked. Right for a person at a terminal (a stray
   * Enter during the run is not an answer to a later question); wrong for piped answers, which
   * are all written up front.
   */
  readonly discardTypeAhead: boolean
}

interface LineReader {
  /** The next line, `None` at the end of the input. */
  readonly next: Effect.Effect<Option.Option<string>>
}

/**
 * One `readline` interface for the whole scope, opened on the first question (a run that asks
 * nothing never touches the input) and closed with the scope (so an open stdin does not keep the
 * process alive). One interface, not one per question: `readline` reads ahead, and closing it
 * would drop answers already read from a pipe.
 */
const makeLineReader = (options: LineOptions): Effect.Effect<LineReader, never, Scope.Scope> =>
  Effect.gen(function* () {
    let reader: readline.Interface | undefined
    const lines: Array<string> = []
    let ended = false
    let waiting: ((line: Option.Option<string>) => void) | undefined

    const open = (): void => {
      if (reader !== undefined) return
      // terminal: false leaves line editing and Ctrl-C to the terminal itself (no raw mode),
      // so an interrupt still reaches the process while it waits for an answer.
      reader = readline.createInterface({ input: options.input, terminal: false, crlfDelay: Infinity })
      reader.on("line", (line) => {
        const resume = waiting
        waiting = undefined
        if (resume !== undefined) resume(Option.some(line))
        else if (!options.discardTypeAhead) lines.push(line)
      })
      reader.on("close", () => {
        ended = true
        const resume = waiting
        waiting = undefined
        resume?.(Option.none())
      })
    }

    yield* Effect.addFinalizer(() => Effect.sync(() => reader?.close()))

    const next = Effect.async<Option.Option<string>>((resume) => {
      open()
      const line = lines.shift()
      if (line !== undefined) return resume(Effect.succeed(Option.some(line)))
      if (ended) return resume(Effect.succeedNone)
      waiting = (result) => resume(Effect.succeed(result))
      return Effect.sync(() => {
        waiting = undefined
      })
    })
    return { next }
  })

/**
 * Asks by printing the question on `output` and reading one line of `input`: the answer is the
 * first line that is not blank, trimmed; the end of the input means no answer. Questions asked
 * at the same time are asked one after the other.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeLines = (options: LineOptions): Effect.Effect<Clarifier["Type"], never, Scope.Scope> =>
  Effect.gen(function* () {
    const reader = yield* makeLineReader(options)
    const oneAtATime = yield* Effect.makeSemaphore(1)
    const answer: Effect.Effect<Option.Option<string>> = Effect.flatMap(reader.next, (line) =>
      Option.isNone(line)
        ? Effect.succeedNone
        : line.value.trim() === ""
          ? answer
          : Effect.succeed(Option.some(line.value.trim()))
    )
    return {
      ask: (question) =>
        oneAtATime.withPermits(1)(
          Effect.zipRight(
            Effect.sync(() => {
              options.output.write(
                `\n? ${question.question}\n  (type your answer and press Enter; Ctrl-D to answer later) > `
              )
            }),
            answer
          )
        )
    }
  })

/**
 * Asks on the process's terminal: the question on stderr (stdout stays the run's output), the
 * answer from stdin. Also reads answers piped into stdin (`echo blue | dabgent thread ... --input`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTerminal: Layer.Layer<Clarifier> = Layer.scoped(
  Clarifier,
  Effect.suspend(() =>
    makeLines({
      input: process.stdin,
      output: process.stderr,
      discardTypeAhead: process.stdin.isTTY === true
    })
  )
)

/**
 * {@link layerTerminal} when stdin is a terminal, else {@link layerNone}. A pipe or `/dev/null`
 * on stdin is not read: an inherited pipe that never closes would make the run hang on its first
 * question (ask for it with {@link layerTerminal}, `--input` on the command line).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAuto: Layer.Layer<Clarifier> = Layer.suspend(() =>
  process.stdin.isTTY === true ? layerTerminal : layerNone
)
