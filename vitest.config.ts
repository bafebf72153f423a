import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Store suites open real databases; keep files from starving a 2-core machine.
    maxWorkers: 2,
    minWorkers: 1
  }
})
