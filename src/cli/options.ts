/**
 * Options shared by several commands.
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import { defaultSqliteFile } from "./StoreLocation.js"

/**
 * `--store`: a SQLite path or a `postgres://` URL; env `DABGENT_DATABASE_URL`.
 *
 * @since 0.1.0
 * @category options
 */
export const store = Options.text("store").pipe(
  Options.withDescription(
    `Where the event log lives: a SQLite file path or a postgres:// URL (default ${defaultSqliteFile}).`
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
