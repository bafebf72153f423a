/** The three EventStore backends, for tests that must hold on each of them. */
import type * as Layer from "effect/Layer"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { layerMemory, type EventStore, type StoreError } from "../../src/store/index.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import { testDatabaseUrl } from "./postgres.js"

export interface Backend {
  readonly name: "memory" | "sqlite" | "postgres"
  readonly layer: () => Layer.Layer<EventStore, StoreError>
}

export const tempSqliteFile = (): string => join(mkdtempSync(join(tmpdir(), "dabgent-test-")), "events.db")

export const backends = (): ReadonlyArray<Backend> => [
  { name: "memory", layer: () => layerMemory },
  { name: "sqlite", layer: () => SqliteEventStore.layer({ filename: tempSqliteFile() }) },
  { name: "postgres", layer: () => PgEventStore.layer({ url: testDatabaseUrl(), maxConnections: 4 }) }
]
