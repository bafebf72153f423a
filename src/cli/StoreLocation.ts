/**
 * Where the CLI keeps its log: a SQLite file (the embedded default) or a Postgres URL.
 *
 * @since 0.1.0
 */
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { EventStore } from "../store/EventStore.js"
import type { StoreError } from "../store/EventStoreError.js"
import * as PgEventStore from "../store/PgEventStore.js"
import * as SqliteEventStore from "../store/SqliteEventStore.js"

/**
 * The default SQLite file, relative to the current directory.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSqliteFile = ".dabgent/events.db"

/**
 * The stream every session of a store lives in; sessions are told apart by aggregate id.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStreamId = "dabgent"

/**
 * @since 0.1.0
 * @category models
 */
export type StoreLocation =
  | { readonly _tag: "Sqlite"; readonly filename: string }
  | { readonly _tag: "Postgres"; readonly url: Redacted.Redacted<string> }

/**
 * A `postgres://` or `postgresql://` URL means Postgres; anything else is a SQLite file path.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (value: string): StoreLocation =>
  /^postgres(ql)?:\/\//.test(value)
    ? { _tag: "Postgres", url: Redacted.make(value) }
    : { _tag: "Sqlite", filename: value }

/**
 * How a location is shown to the user: never the password.
 *
 * @since 0.1.0
 * @category formatting
 */
export const describe = (location: StoreLocation): string =>
  location._tag === "Sqlite"
    ? location.filename
    : Redacted.value(location.url).replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@")

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (location: StoreLocation): Layer.Layer<EventStore, StoreError> =>
  location._tag === "Sqlite"
    ? SqliteEventStore.layer({ filename: location.filename })
    : PgEventStore.layer({ url: location.url })
