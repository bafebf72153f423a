import * as Redacted from "effect/Redacted"
import { inject } from "vitest"

/** The test database, started by the global setup. */
export const testDatabaseUrl = (): Redacted.Redacted<string> => Redacted.make(inject("databaseUrl"))
