/**
 * Runs once before the suite. `scripts/test-tools-up.sh` installs the programs some tests drive
 * where they are missing (bubblewrap, Chromium, iproute2). Then it finds the PostgreSQL server the
 * store tests use: `DABGENT_TEST_DATABASE_URL` wins; otherwise `scripts/postgres-up.sh` starts the
 * local server (installing it where it is missing). A missing tool or database means a failed
 * run, never skipped tests.
 */
import { execFileSync } from "node:child_process"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

export default function setup(project: TestProject): void {
  try {
    execFileSync("bash", ["scripts/test-tools-up.sh"], { stdio: ["ignore", "inherit", "inherit"] })
  } catch (error) {
    throw new Error(
      `The tests need bubblewrap, Chromium and iproute2 (installing them failed: ${String(error)})`
    )
  }
  let url = process.env.DABGENT_TEST_DATABASE_URL
  if (url === undefined || url === "") {
    try {
      url = execFileSync("bash", ["scripts/postgres-up.sh"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"]
      })
        .trim()
        .split("\n")
        .pop()
    } catch (error) {
      throw new Error(
        "The Postgres tests need a server: set DABGENT_TEST_DATABASE_URL=postgres://... or let " +
          `scripts/postgres-up.sh start a local one (it failed: ${String(error)})`
      )
    }
  }
  if (url === undefined || !url.startsWith("postgres"))
    throw new Error(`No Postgres URL for the tests (got ${url})`)
  project.provide("databaseUrl", url)
}
