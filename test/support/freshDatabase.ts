/**
 * A database of its own on the test server, for tests that read a whole stream (the sessions
 * list): the shared test database holds the sessions of every other test file. Dropped when the
 * scope closes.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "node:crypto"
import pg from "pg"

const admin = async <A>(url: string, use: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

/** A new empty database next to the one at `url`; its URL. */
export const freshDatabase = (url: Redacted.Redacted<string>) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const name = `dabgent_t_${randomBytes(6).toString("hex")}`
      await admin(Redacted.value(url), (client) => client.query(`CREATE DATABASE ${name}`))
      const target = new URL(Redacted.value(url))
      target.pathname = `/${name}`
      return { name, url: Redacted.make(target.toString()) }
    }),
    ({ name }) =>
      Effect.promise(() =>
        admin(Redacted.value(url), (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
      ).pipe(Effect.ignore)
  ).pipe(Effect.map(({ url }) => url))
