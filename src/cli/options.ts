/**
 * Options shared by several commands.
 *
 * @since 0.1.0
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { resolve } from "node:path"
import { ExitCode } from "./ExitCode.js"
import * as StoreLocation from "./StoreLocation.js"
import { defaultSqliteFile } from "./StoreLocation.js"

/**
 * `--store`: a SQLite path or a `postgres://` URL; env `DABGENT_DATABASE_URL`.
 *
 * @since 0.1.0
 * @category options
 */
export const store = Options.text("store").pipe(
  Options.withDescription(
    `Where the event log lives: a SQLite file path or a postgres:// URL (env DABGENT_DATABASE_URL; default ${defaultSqliteFile}).`
  ),
  Options.withFallbackConfig(
    Config.string("DABGENT_DATABASE_URL").pipe(Config.withDefault(defaultSqliteFile))
  )
)

/**
 * `--json`: machine-readable output, one JSON object per line.
 *
 * @since 0.1.0
 * @category options
 */
export const json = Options.boolean("json").pipe(
  Options.withDescription("Print NDJSON, one object per line.")
)

/**
 * `--model provider:name` (else `DABGENT_MODEL`).
 *
 * @since 0.1.0
 * @category options
 */
export const model = Options.text("model").pipe(
  Options.withAlias("m"),
  Options.withDescription(
    "The model as provider:name — openai:gpt-4o-mini, anthropic:claude-sonnet-4-5, openai-compat:qwen2.5-coder (env DABGENT_MODEL)."
  ),
  Options.optional
)

/**
 * `--base-url` for `openai-compat` (else `DABGENT_BASE_URL`).
 *
 * @since 0.1.0
 * @category options
 */
export const baseUrl = Options.text("base-url").pipe(
  Options.withDescription(
    "Base URL of an OpenAI-compatible server, e.g. http://localhost:11434/v1 (env DABGENT_BASE_URL)."
  ),
  Options.optional
)

/**
 * `--workdir` (default: the current directory).
 *
 * @since 0.1.0
 * @category options
 */
export const workdir = Options.directory("workdir", { exists: "yes" }).pipe(
  Options.withDescription("The directory the agent works in (default: the current directory)."),
  Options.optional
)

/**
 * `--max-steps`: LLM turns before the thread fails.
 *
 * @since 0.1.0
 * @category options
 */
export const maxSteps = Options.integer("max-steps").pipe(
  Options.withDescription("LLM turns before the thread gives up (default 50)."),
  Options.optional
)

/**
 * `--validate "<command>"`: what `done` must pass.
 *
 * @since 0.1.0
 * @category options
 */
export const validate = Options.text("validate").pipe(
  Options.withDescription(
    'A command that must succeed before `done` is accepted, e.g. --validate "npm test".'
  ),
  Options.optional
)

/**
 * `--sandbox bwrap|local` (default bwrap when it works here).
 *
 * @since 0.1.0
 * @category options
 */
export const sandbox = Options.choice("sandbox", ["bwrap", "local"]).pipe(
  Options.withDescription("Where commands run: bwrap (isolated; the default when available) or local."),
  Options.optional
)

/**
 * `--allow-network`: let sandboxed commands use the network.
 *
 * @since 0.1.0
 * @category options
 */
export const allowNetwork = Options.boolean("allow-network").pipe(
  Options.withDescription("Let commands in the bwrap sandbox use the network (off by default).")
)

/**
 * How the agent's questions (`ask_user`) are answered during a run:
 * - `auto`: asked inline when stdin is a terminal; otherwise the run stops and waits;
 * - `input`: read from stdin even when it is not a terminal (answers piped in, one per line);
 * - `none`: never asked inline; the run stops and waits for `dabgent answer`.
 *
 * @since 0.1.0
 * @category models
 */
export type InputMode = "auto" | "input" | "none"

/**
 * `--input` / `--no-input` (default: ask inline only at a terminal).
 *
 * @since 0.1.0
 * @category options
 */
export const input: Options.Options<InputMode> = Options.all({
  input: Options.boolean("input").pipe(
    Options.withDescription(
      "Read answers to the agent's questions from stdin even when it is not a terminal (one line per answer; at the end of input the run stops and waits)."
    )
  ),
  noInput: Options.boolean("no-input").pipe(
    Options.withDescription(
      "Never ask inline: when the agent asks a question the run stops (exit code 3) and waits for `dabgent answer`."
    )
  )
}).pipe(
  Options.mapEffect(({ input, noInput }) =>
    input && noInput
      ? Effect.fail(ValidationError.invalidValue(HelpDoc.p("--input and --no-input exclude each other")))
      : Effect.succeed<InputMode>(input ? "input" : noInput ? "none" : "auto")
  )
)

/**
 * The options of every command that starts a run (`thread`, `plan`, `coordinate`, `run`).
 *
 * @since 0.1.0
 * @category options
 */
export const runOptions = {
  workdir,
  store,
  model,
  baseUrl,
  maxSteps,
  validate,
  sandbox,
  allowNetwork,
  input,
  json
}

/**
 * What {@link runOptions} parse to.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  readonly workdir: Option.Option<string>
  readonly store: string
  readonly model: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly maxSteps: Option.Option<number>
  readonly validate: Option.Option<string>
  readonly sandbox: Option.Option<"bwrap" | "local">
  readonly allowNetwork: boolean
  readonly input: InputMode
  readonly json: boolean
}

/**
 * The settings of a new run from its options (workdir resolved, defaults applied).
 *
 * @since 0.1.0
 * @category options
 */
export const runSettings = (options: RunOptions) => ({
  store: StoreLocation.parse(options.store),
  model: options.model,
  baseUrl: options.baseUrl,
  workdir: resolve(Option.getOrElse(options.workdir, () => process.cwd())),
  sandbox: options.sandbox,
  allowNetwork: options.allowNetwork,
  validate: options.validate,
  maxSteps: Option.getOrElse(options.maxSteps, () => 50),
  json: options.json,
  input: options.input
})

/**
 * `--detach`: only record the session for a fleet of `dabgent worker` processes and print its id.
 *
 * @since 0.1.0
 * @category options
 */
export const detach = Options.boolean("detach").pipe(
  Options.withDescription(
    "Only record the request for the dabgent workers sharing this postgres:// store, print the session id and exit."
  )
)

/**
 * `--detach` needs a store the workers share: Postgres.
 *
 * @since 0.1.0
 * @category options
 */
export const checkDetach = (detach: boolean, store: StoreLocation.StoreLocation) =>
  detach && store._tag !== "Postgres"
    ? Effect.fail(
        new ExitCode({
          code: 2,
          message:
            "dabgent: --detach needs a postgres:// store (--store or DABGENT_DATABASE_URL) that dabgent workers share"
        })
      )
    : Effect.void
