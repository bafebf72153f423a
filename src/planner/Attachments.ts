/**
 * Material the user points at in the input: file paths and URLs. Paths are read through the
 * `Sandbox` (so a path can never escape the working folder) and capped, then handed to the
 * planner with the input; URLs are recorded and never fetched.
 *
 * Detection is conservative on purpose: a false positive costs a failed read and a note, but
 * abbreviations ("e.g."), versions ("v1.2"), domains and "and/or" are not paths.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { Sandbox } from "../sandbox/Sandbox.js"
import { Attachment } from "./Plan.js"

/**
 * Something the input mentions: a file `path` (relative to the working folder, or absolute) or
 * an `http(s)` URL.
 *
 * @since 0.1.0
 * @category models
 */
export interface DetectedAttachment {
  readonly kind: "path" | "url"
  readonly source: string
}

/**
 * The attachments in input order, and one note per attachment that came without (full)
 * content: outside the working folder, missing, cut at the cap, over the total budget, or a URL.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoadedAttachments {
  readonly attachments: ReadonlyArray<Attachment>
  readonly notes: ReadonlyArray<string>
}

/**
 * Byte caps for loaded content.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoadOptions {
  /** Bytes kept per file (the head; a marker says how much was cut). Default 16 KiB. */
  readonly maxFileBytes?: number
  /** Bytes kept over all files; later files get what is left, then nothing. Default 64 KiB. */
  readonly maxTotalBytes?: number
}

/**
 * The default caps: 16 KiB per file, 64 KiB in total.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLimits = { maxFileBytes: 16 * 1024, maxTotalBytes: 64 * 1024 } as const

// ---------------------------------------------------------------------------------------------
// Detection

const urlPattern = /\bhttps?:\/\/[^\s<>"'`]+/gi

/** Extensions that make a bare name (no slash) a file: common source, config and doc files. */
const knownExtensions = new Set([
  "c",
  "cc",
  "cfg",
  "conf",
  "cpp",
  "cs",
  "css",
  "csv",
  "cts",
  "dart",
  "env",
  "ex",
  "exs",
  "go",
  "gradle",
  "h",
  "hpp",
  "html",
  "ini",
  "ipynb",
  "java",
  "js",
  "json",
  "jsonc",
  "jsx",
  "kt",
  "kts",
  "less",
  "lock",
  "log",
  "lua",
  "md",
  "mdx",
  "mjs",
  "cjs",
  "mts",
  "php",
  "pl",
  "proto",
  "ps1",
  "py",
  "r",
  "rb",
  "rs",
  "rst",
  "sass",
  "scala",
  "scss",
  "sh",
  "sql",
  "svelte",
  "swift",
  "tf",
  "toml",
  "ts",
  "tsv",
  "tsx",
  "txt",
  "vue",
  "xml",
  "yaml",
  "yml",
  "zig",
  "zsh"
])

/** Names that look like files but are usually libraries in prose ("Node.js"). */
const libraryNames =
  /^(node|vue|next|nuxt|express|react|three|d3|chart|ember|backbone|angular|deno|solid|alpine|p5)\.js$/i

/** A first segment that is a domain (`github.com/...`), not a folder. */
const domainSegment = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$/i

const pathCharacters = /^[\w.\-/@+~]+$/

/** Splits prose into path-shaped tokens: whitespace, quotes, brackets and markdown marks. */
const tokenSeparators = /[\s"'`()[\]{}<>,;*|=]+/

const trimToken = (token: string): string =>
  token
    .replace(/^[:!?]+/, "")
    .replace(/[.:!?]+$/, "")
    // `src/app.ts:42` or `src/app.ts:42:7` names the file.
    .replace(/(\.[A-Za-z]\w*):\d+(?::\d+)?$/, "$1")

const extensionOf = (name: string): string | undefined => {
  const match = /^[^.].*\.([A-Za-z][A-Za-z0-9]{0,9})$/.exec(name)
  return match?.[1]?.toLowerCase()
}

const isPath = (token: string): boolean => {
  if (!pathCharacters.test(token) || !/[A-Za-z]/.test(token)) return false
  const segments = token.split("/")
  const last = segments[segments.length - 1] ?? ""
  if (!token.includes("/")) {
    const extension = extensionOf(token)
    return extension !== undefined && knownExtensions.has(extension) && !libraryNames.test(token)
  }
  if (/^(\.{1,2}\/|\/|~\/)/.test(token)) return token.length > 2 && /[A-Za-z]/.test(token.slice(1))
  const first = segments[0] ?? ""
  if (domainSegment.test(first)) return false
  // Relative without a leading `./`: "src/x.py" or a deeper "a/b/c", not "and/or" or "km/h".
  return extensionOf(last) !== undefined || segments.filter((segment) => segment !== "").length >= 3
}

/**
 * The file paths and URLs mentioned in the input, each once, in order of first mention. URLs
 * are `http(s)://` links; a path needs a slash (`./x`, `/abs/x`, `src/x.py`, `a/b/c`) or a known
 * file extension (`README.md`); nothing inside a URL counts as a path.
 *
 * @since 0.1.0
 * @category detection
 */
export const detect = (input: string): ReadonlyArray<DetectedAttachment> => {
  const found: Array<DetectedAttachment> = []
  const seen = new Set<string>()
  const add = (kind: DetectedAttachment["kind"], source: string) => {
    const key = `${kind}:${source}`
    if (seen.has(key)) return
    seen.add(key)
    found.push({ kind, source })
  }
  const urls: Array<{ readonly index: number; readonly source: string }> = []
  for (const match of input.matchAll(urlPattern)) {
    // Trailing punctuation and an unbalanced closing bracket belong to the prose.
    let source = match[0].replace(/[.,;:!?]+$/, "")
    while (/[)\]]$/.test(source) && !source.includes(source.endsWith(")") ? "(" : "[")) {
      source = source.slice(0, -1).replace(/[.,;:!?]+$/, "")
    }
    urls.push({ index: match.index, source: match[0] })
    add("url", source)
  }
  // Blank the URLs out so their paths ("https://x.io/docs/a.md") are not read as files.
  let prose = input
  for (const url of urls) {
    prose =
      prose.slice(0, url.index) + " ".repeat(url.source.length) + prose.slice(url.index + url.source.length)
  }
  for (const raw of prose.split(tokenSeparators)) {
    const token = trimToken(raw)
    if (token !== "" && isPath(token)) add("path", token)
  }
  return found
}

// ---------------------------------------------------------------------------------------------
// Loading

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, without splitting a character. */
const headBytes = (text: string, maxBytes: number): string => {
  const bytes = Buffer.from(text, "utf8")
  if (bytes.length <= maxBytes) return text
  let end = Math.max(0, maxBytes)
  // Step back over continuation bytes so the cut falls on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
  return bytes.subarray(0, end).toString("utf8")
}

const truncationMarker = (kept: number): string => `\n[... attachment truncated after ${kept} bytes ...]\n`

/**
 * Reads the detected paths through the `Sandbox`, in order, within the caps. A file inside the
 * working folder gets its content (the head, with a marker when cut); a path outside it, a
 * missing file or a folder is kept without content and with a note; a URL is recorded, never
 * fetched. Never fails: an unreadable attachment is a note, not an error.
 *
 * @since 0.1.0
 * @category loading
 */
export const load = (
  detected: ReadonlyArray<DetectedAttachment>,
  options: LoadOptions = {}
): Effect.Effect<LoadedAttachments, never, Sandbox> =>
  Effect.gen(function* () {
    const sandbox = yield* Sandbox
    const maxFileBytes = options.maxFileBytes ?? defaultLimits.maxFileBytes
    let budget = options.maxTotalBytes ?? defaultLimits.maxTotalBytes
    const attachments: Array<Attachment> = []
    const notes: Array<string> = []
    for (const item of detected) {
      if (item.kind === "url") {
        attachments.push(new Attachment({ source: item.source }))
        notes.push(`${item.source}: URL recorded, not fetched`)
        continue
      }
      const read = yield* Effect.either(sandbox.readFile(item.source))
      if (Either.isLeft(read)) {
        attachments.push(new Attachment({ source: item.source }))
        notes.push(
          read.left._tag === "PathOutsideSandbox"
            ? `${item.source}: outside the working directory, not read`
            : `${item.source}: not read (${read.left.reason})`
        )
        continue
      }
      if (budget <= 0) {
        attachments.push(new Attachment({ source: item.source }))
        notes.push(`${item.source}: not included, the attachment budget is used up`)
        continue
      }
      const text = read.right
      const size = Buffer.byteLength(text, "utf8")
      const limit = Math.min(maxFileBytes, budget)
      if (size <= limit) {
        budget -= size
        attachments.push(new Attachment({ source: item.source, content: text }))
        continue
      }
      const head = headBytes(text, limit)
      const kept = Buffer.byteLength(head, "utf8")
      budget -= kept
      attachments.push(new Attachment({ source: item.source, content: head + truncationMarker(kept) }))
      notes.push(`${item.source}: truncated to its first ${kept} bytes`)
    }
    return { attachments, notes }
  })

/**
 * Detects and loads in one step: what the planner needs from a raw input.
 *
 * @since 0.1.0
 * @category loading
 */
export const fromInput = (
  input: string,
  options?: LoadOptions
): Effect.Effect<LoadedAttachments, never, Sandbox> => load(detect(input), options)
