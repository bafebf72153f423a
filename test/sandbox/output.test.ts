/**
 * The capture buffer behind `exec`: bounded memory, exact text under the budget, head and tail
 * with a marker above it, and no broken characters at the cut.
 */
import { describe, expect, it } from "@effect/vitest"
import { CappedOutput } from "../../src/sandbox/internal/output.js"

const feed = (output: CappedOutput, text: string, chunkSize: number) => {
  const bytes = Buffer.from(text, "utf8")
  for (let at = 0; at < bytes.length; at += chunkSize) output.push(bytes.subarray(at, at + chunkSize))
}

describe("CappedOutput", () => {
  it("returns the text unchanged while it fits", () => {
    for (const chunkSize of [1, 7, 100, 1000]) {
      const output = new CappedOutput(100)
      const text = "0123456789".repeat(10)
      feed(output, text, chunkSize)
      expect(output.render()).toBe(text)
      expect(output.truncated).toBe(false)
    }
  })

  it("keeps the first and last halves of 10 MB within its budget, in any chunking", () => {
    const cases: ReadonlyArray<readonly [chunkSize: number, length: number]> = [
      [1, 20_000],
      [3, 10_000_000],
      [4096, 10_000_000],
      [65536, 10_000_000],
      [1_000_000, 10_000_000]
    ]
    for (const [chunkSize, length] of cases) {
      const output = new CappedOutput(1000)
      feed(output, "HEAD" + "-".repeat(length - 8) + "TAIL", chunkSize)
      const total = output.total
      const rendered = output.render()
      expect(output.retainedBytes).toBe(1000)
      expect(output.truncated).toBe(true)
      expect(rendered.startsWith("HEAD" + "-".repeat(496))).toBe(true)
      expect(rendered.endsWith("-".repeat(496) + "TAIL")).toBe(true)
      expect(rendered).toContain(`\n[... ${total - 1000} bytes cut ...]\n`)
    }
  })

  it("keeps the latest bytes in order across ring wrap-arounds", () => {
    const output = new CappedOutput(20)
    const text = Array.from({ length: 200 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("")
    feed(output, text, 7)
    const rendered = output.render()
    expect(rendered.startsWith(text.slice(0, 10))).toBe(true)
    expect(rendered.endsWith(text.slice(-10))).toBe(true)
  })

  it("moves split multi-byte characters into the cut", () => {
    const output = new CappedOutput(10)
    feed(output, "€".repeat(100), 5)
    const rendered = output.render()
    expect(rendered).not.toContain("\uFFFD")
    expect(rendered).toMatch(/^€+\n\[\.\.\. \d+ bytes cut \.\.\.\]\n€+$/)
    const [, cut] = /\[\.\.\. (\d+) bytes cut/.exec(rendered) ?? []
    const kept = Buffer.byteLength(rendered.replace(/\n\[.*\]\n/, ""), "utf8")
    expect(Number(cut) + kept).toBe(300)
  })
})
