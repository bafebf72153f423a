/**
 * `dabgent ui`: a live web timeline of the sessions in a store. Read-only and on 127.0.0.1 by
 * default; `--allow-answer` lets the page answer a waiting session, `--host` exposes it (with a
 * warning: whoever reaches the address reads every prompt and tool output).
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { ExitCode } from "./ExitCode.js"
import * as Shared from "./options.js"
import { isLoopback } from "../ui/Loopback.js"
import * as StoreLocation from "./StoreLocation.js"

const version = (createRequire(import.meta.url)("../../package.json") as { version: string }).version

const serve = (options: {
  readonly location: StoreLocation.StoreLocation
  readonly port: number
  readonly host: string
  readonly allowAnswer: boolean
}) =>
  Effect.gen(function* () {
    const { location, port, host, allowAnswer } = options
    // The server and the page are loaded only by this command.
    const UiServer = yield* Effect.promise(() => import("../ui/UiServer.js"))
    const running = yield* UiServer.start({
      port,
      host,
      allowAnswer,
      heartbeat: "15 seconds",
      streamId: StoreLocation.defaultStreamId,
      storeLabel: StoreLocation.describe(location),
      version
    }).pipe(
      Effect.mapError(
        (error) =>
          new ExitCode({
            code: 2,
            message: `dabgent: cannot serve on ${host}:${port}: ${error.cause instanceof Error ? error.cause.message : String(error.cause)}`
          })
      )
    )
    yield* Console.log(`dabgent ui: ${running.url}`)
    yield* Console.error(
      `store ${StoreLocation.describe(location)} · ${allowAnswer ? "answers allowed" : "read-only (--allow-answer to answer from the page)"} · Ctrl-C to stop`
    )
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.provide(StoreLocation.layer(options.location)),
    Effect.catchTag("StoreError", (error) =>
      Effect.fail(new ExitCode({ code: 2, message: `dabgent: ${error.message}` }))
    )
  )

/**
 * @since 0.1.0
 * @category commands
 */
export const ui = Command.make(
  "ui",
  {
    store: Shared.store,
    port: Options.integer("port").pipe(
      Options.withDescription("The port to serve on (0 picks a free one)."),
      Options.withDefault(4400)
    ),
    host: Options.text("host").pipe(
      Options.withDescription(
        "The address to listen on. Anything but loopback exposes every session in the store to whoever reaches it."
      ),
      Options.withDefault("127.0.0.1")
    ),
    allowAnswer: Options.boolean("allow-answer").pipe(
      Options.withDescription("Let the page answer a session's question (off: the page is read-only).")
    )
  },
  ({ store, port, host, allowAnswer }) =>
    Effect.gen(function* () {
      const location = StoreLocation.parse(store)
      if (port < 0 || port > 65535)
        return yield* new ExitCode({ code: 2, message: `dabgent: no port ${port}` })
      // Watching must not create a store: a missing file is a wrong path or a wrong directory.
      if (location._tag === "Sqlite" && !existsSync(location.filename))
        return yield* new ExitCode({
          code: 2,
          message: `dabgent: no store at ${location.filename}; run a session first or pass --store`
        })
      if (!isLoopback(host)) {
        yield* Console.error(
          `warning: dabgent ui listens on ${host}: anyone who can reach it reads every session of the store (prompts, tool output)${allowAnswer ? " and can answer their questions" : ""}. There is no authentication.`
        )
      }
      yield* serve({ location, port, host, allowAnswer })
    })
).pipe(Command.withDescription("Serve a live web view of the sessions in the store (http://127.0.0.1:4400)."))
