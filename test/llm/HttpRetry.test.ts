import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as HttpRetry from "../../src/llm/HttpRetry.js"

describe("HttpRetry.parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z")
  it("reads delay-seconds", () => {
    expect(HttpRetry.parseRetryAfter("3", now)).toEqual(Duration.seconds(3))
    expect(HttpRetry.parseRetryAfter(" 0.5 ", now)).toEqual(Duration.seconds(0.5))
  })
  it("reads an HTTP date relative to now, never negative", () => {
    expect(HttpRetry.parseRetryAfter("Wed, 01 Jan 2025 00:00:07 GMT", now)).toEqual(Duration.millis(7000))
    expect(HttpRetry.parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now)).toEqual(Duration.millis(0))
  })
  it("ignores what it cannot read", () => {
    expect(HttpRetry.parseRetryAfter(undefined, now)).toBeUndefined()
    expect(HttpRetry.parseRetryAfter("soon", now)).toBeUndefined()
  })
  it("retries 429 and 5xx but not 501 or 4xx", () => {
    expect([429, 500, 502, 503, 529].every(HttpRetry.isRetryableStatus)).toBe(true)
    expect([400, 401, 403, 404, 501].some(HttpRetry.isRetryableStatus)).toBe(false)
  })
})
