/** Running the real `dabgent` command line as a child process, from the sources. */
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))
/** tsx resolved from this project, so the CLI can run in any working directory. */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** An environment without the developer's model settings or keys, plus `extra`. */
export const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(DABGENT_|OPENAI_|ANTHROPIC_|OTEL_)/.test(key)) env[key] = value
  }
  return { ...env, NO_COLOR: "1", ...extra }
}

export interface CliOptions {
  readonly cwd: string
  readonly env?: Record<string, string>
  /** Piped to the CLI's stdin, which is then closed; without it stdin is /dev/null. */
  readonly stdin?: string
}

/** The program and arguments that run the CLI from the sources (e.g. to wrap in `ip netns exec`). */
export const cliCommand = (args: ReadonlyArray<string>): readonly [string, ReadonlyArray<string>] => [
  process.execPath,
  ["--import", tsx, main, ...args]
]

export const startCli = (args: ReadonlyArray<string>, options: CliOptions) => {
  const child = spawn(process.execPath, ["--import", tsx, main, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"]
  })
  if (options.stdin !== undefined) child.stdin?.end(options.stdin)
  return child
}

export const collect = (child: ChildProcess, timeoutMs = 60_000): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    let stdout = ""
    let stderr = ""
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(
        new Error(`dabgent did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)
      )
    }, timeoutMs)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })

export const runCli = (args: ReadonlyArray<string>, options: CliOptions) => collect(startCli(args, options))

export { root }

/**
 * Resolves `true` once `path` exists, or `false` when the child exits first or `timeoutMs`
 * passes (generous: a CLI started through tsx on a busy 2-core machine can take many seconds).
 */
export const waitForFile = async (
  child: ChildProcess,
  path: string,
  timeoutMs = 60_000
): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (existsSync(path)) return true
    if (child.exitCode !== null || child.signalCode !== null) return existsSync(path)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return existsSync(path)
}

/**
 * Resolves `true` once `pattern` appears in the child's stdout or stderr (as accumulated so far),
 * or `false` when the child closes first or `timeoutMs` passes.
 */
export const waitForOutput = (child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<boolean> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(false)
    let seen = ""
    const done = (matched: boolean) => {
      clearTimeout(timer)
      child.stdout?.off("data", onData)
      child.stderr?.off("data", onData)
      child.off("close", onClose)
      resolve(matched)
    }
    const onData = (chunk: Buffer) => {
      seen += chunk.toString()
      if (pattern.test(seen)) done(true)
    }
    const onClose = () => done(false)
    const timer = setTimeout(() => done(false), timeoutMs)
    child.stdout?.on("data", onData)
    child.stderr?.on("data", onData)
    child.on("close", onClose)
  })
