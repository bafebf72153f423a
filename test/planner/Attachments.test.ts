import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Attachments } from "../../src/planner/index.js"
import * as Sandbox from "../../src/sandbox/index.js"
import { tempDir } from "../sandbox/support.js"

const sources = (input: string) => Attachments.detect(input).map((item) => `${item.kind}:${item.source}`)

describe("Attachments.detect", () => {
  it("finds relative, dotted, absolute and nested paths", () => {
    expect(
      sources(
        "Fix ./src/app.ts and src/x.py, then update README.md; compare with /abs/path and docs/api/v2 (see ../notes.txt)."
      )
    ).toEqual([
      "path:./src/app.ts",
      "path:src/x.py",
      "path:README.md",
      "path:/abs/path",
      "path:docs/api/v2",
      "path:../notes.txt"
    ])
  })

  it("finds URLs, drops trailing punctuation, and reads no path inside a URL", () => {
    expect(
      sources(
        "Read https://example.com/docs/guide.md, and (http://x.io/a/b.json). Also see https://en.wikipedia.org/wiki/Graph_(math)."
      )
    ).toEqual([
      "url:https://example.com/docs/guide.md",
      "url:http://x.io/a/b.json",
      "url:https://en.wikipedia.org/wiki/Graph_(math)"
    ])
  })

  it("ignores abbreviations, versions, numbers, domains, words with slashes and library names", () => {
    expect(
      sources(
        "E.g. upgrade to v1.2 or 1.2.3, i.e. the etc. release; 3.5 times faster and/or 24/7 on example.com and github.com/org/repo at 12/05/2024 with Node.js, km/h."
      )
    ).toEqual([])
  })

  it("accepts markdown and code quoting, line numbers and dotfolders, each source once", () => {
    expect(
      sources(
        "Look at `src/main.rs:42`, **package.json** and .github/workflows/ci.yml; again `package.json`."
      )
    ).toEqual(["path:src/main.rs", "path:package.json", "path:.github/workflows/ci.yml"])
  })
})

describe("Attachments.load", () => {
  const fixture = Effect.gen(function* () {
    const root = yield* tempDir("planner-attachments")
    const outside = yield* tempDir("planner-outside")
    yield* Effect.promise(async () => {
      await fs.mkdir(path.join(root, "src"))
      await fs.writeFile(path.join(root, "src", "app.ts"), "export const app = 1\n")
      await fs.writeFile(path.join(root, "huge.log"), "é".repeat(20_000) + "THE END")
      await fs.writeFile(path.join(outside, "secret.txt"), "top secret")
    })
    return { root, outside }
  })

  it.scoped("reads files inside the workdir, caps large ones and keeps the rest without content", () =>
    Effect.gen(function* () {
      const { root, outside } = yield* fixture
      const detected: ReadonlyArray<Attachments.DetectedAttachment> = [
        { kind: "path", source: "./src/app.ts" },
        { kind: "path", source: "huge.log" },
        { kind: "path", source: path.join(outside, "secret.txt") },
        { kind: "path", source: "../secret.txt" },
        { kind: "path", source: "missing.md" },
        { kind: "path", source: "src" },
        { kind: "url", source: "https://example.com/spec.md" }
      ]
      const { attachments, notes } = yield* Attachments.load(detected).pipe(
        Effect.provide(Sandbox.layerLocal(root))
      )

      expect(attachments.map((attachment) => attachment.source)).toEqual(detected.map((item) => item.source))
      const [app, huge, absolute, relative, missing, folder, url] = attachments
      expect(app?.content).toBe("export const app = 1\n")

      const content = huge?.content ?? ""
      expect(content).toContain("[... attachment truncated after")
      expect(content).not.toContain("THE END")
      expect(content).not.toContain("\uFFFD")
      const kept = content.slice(0, content.indexOf("\n[..."))
      expect(Buffer.byteLength(kept, "utf8")).toBeLessThanOrEqual(Attachments.defaultLimits.maxFileBytes)
      expect(Buffer.byteLength(kept, "utf8")).toBeGreaterThan(Attachments.defaultLimits.maxFileBytes - 2)

      for (const unread of [absolute, relative, missing, folder, url]) expect(unread?.content).toBeUndefined()
      expect(notes).toEqual([
        expect.stringContaining("huge.log: truncated"),
        expect.stringContaining("secret.txt: outside the working directory"),
        "../secret.txt: outside the working directory, not read",
        expect.stringMatching(/^missing\.md: not read \(.+\)$/),
        expect.stringMatching(/^src: not read \(.+\)$/),
        "https://example.com/spec.md: URL recorded, not fetched"
      ])
    })
  )

  it.scoped("stops adding content once the total budget is used", () =>
    Effect.gen(function* () {
      const root = yield* tempDir("planner-budget")
      yield* Effect.promise(async () => {
        for (const name of ["a.txt", "b.txt", "c.txt"])
          await fs.writeFile(path.join(root, name), "x".repeat(600))
      })
      const { attachments, notes } = yield* Attachments.fromInput("Use a.txt, b.txt and c.txt", {
        maxFileBytes: 1000,
        maxTotalBytes: 1000
      }).pipe(Effect.provide(Sandbox.layerLocal(root)))

      expect(attachments.map((attachment) => attachment.content?.length ?? 0)).toEqual([
        600,
        400 + "\n[... attachment truncated after 400 bytes ...]\n".length,
        0
      ])
      expect(notes).toEqual([
        "b.txt: truncated to its first 400 bytes",
        "c.txt: not included, the attachment budget is used up"
      ])
    })
  )
})
