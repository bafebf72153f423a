/** Shared pieces of the benchmarks: results, options, statistics, the database URL, payloads. */
import { randomBytes } from "node:crypto"

/** One row of the table and of `bench/results/latest.json`. */
export interface Result {
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly baseline?: number
  /** `value / baseline`. */
  readonly ratio?: number
  /** What the issue asks for, e.g. `ratio >= 0.8` or `<= 1 ms`. */
  readonly target?: string
  readonly met?: boolean
  readonly note?: string
}

export interface BenchOptions {
  readonly quick: boolean
  /** A Postgres URL, or undefined when none is configured. */
  readonly databaseUrl: string | undefined
  /** A prefix unique to this run, for stream ids, table names and temporary files. */
  readonly runId: string
  readonly log: (message: string) => void
}

export interface BenchCase {
  readonly name: string
  readonly description: string
  readonly run: (options: BenchOptions) => Promise<ReadonlyArray<Result>>
}

export const newRunId = (): string => `bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`

export const databaseUrl = (): string | undefined => {
  const url = process.env.DABGENT_BENCH_DATABASE_URL || process.env.DABGENT_TEST_DATABASE_URL
  return url === undefined || url === "" ? undefined : url
}

/** A result for a case that could not run, so the table says why. */
export const skipped = (name: string, unit: string, note: string, target?: string): Result => ({
  name,
  value: Number.NaN,
  unit,
  note,
  ...(target === undefined ? {} : { target })
})

export const noDatabase = "skipped: set DABGENT_BENCH_DATABASE_URL or DABGENT_TEST_DATABASE_URL"

export const percentile = (sorted: ReadonlyArray<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}

export const sortedCopy = (values: ReadonlyArray<number>): Array<number> => [...values].sort((a, b) => a - b)

export const median = (values: ReadonlyArray<number>): number => percentile(sortedCopy(values), 50)

/** A throughput result against its baseline, with a minimum ratio as the target. */
export const ratioResult = (
  name: string,
  value: number,
  baseline: number,
  unit: string,
  minRatio: number,
  note?: string
): Result => {
  const ratio = value / baseline
  return {
    name,
    value,
    unit,
    baseline,
    ratio,
    target: `ratio >= ${minRatio}`,
    met: ratio >= minRatio,
    ...(note === undefined ? {} : { note })
  }
}

/** An absolute result with an upper bound as the target. */
export const maxResult = (
  name: string,
  value: number,
  unit: string,
  max: number,
  extra: { readonly baseline?: number; readonly note?: string; readonly strict?: boolean } = {}
): Result => ({
  name,
  value,
  unit,
  ...(extra.baseline === undefined ? {} : { baseline: extra.baseline, ratio: value / extra.baseline }),
  target: `${extra.strict === true ? "<" : "<="} ${max} ${unit}`,
  met: extra.strict === true ? value < max : value <= max,
  ...(extra.note === undefined ? {} : { note: extra.note })
})

/**
 * The 1 KB event data every append case writes: a realistic tool result, JSON-encoded it is
 * 1,024 bytes.
 */
export const payload1k = (): { readonly callId: string; readonly name: string; readonly result: string } => {
  const base = { callId: "call_0001", name: "bash", result: "" }
  const overhead = JSON.stringify(base).length
  return { ...base, result: "x".repeat(1024 - overhead) }
}

/** Runs `f` for each of `n` producers concurrently, `count` times each; returns ops per second. */
export const throughput = async (
  producers: number,
  count: number,
  f: (producer: number, i: number) => Promise<unknown>
): Promise<number> => {
  const start = performance.now()
  await Promise.all(
    Array.from({ length: producers }, async (_, producer) => {
      for (let i = 0; i < count; i++) await f(producer, i)
    })
  )
  const seconds = (performance.now() - start) / 1000
  return (producers * count) / seconds
}

/** Rotates the order of contenders every round, so drift of the machine hits each of them. */
export const rotated = <A>(items: ReadonlyArray<A>, round: number): ReadonlyArray<A> =>
  items.map((_, i) => items[(i + round) % items.length] as A)

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
