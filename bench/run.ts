/**
 * The benchmark runner: `npm run bench [-- --quick] [-- --only append-pg,replay]`.
 *
 * Runs each case (each measures its own baseline in the same run), prints a table and writes
 * `bench/results/latest.json`. Never part of `npm test`.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { cpus } from "node:os"
import { appendPg } from "./cases/appendPg.js"
import { appendSqlite } from "./cases/appendSqlite.js"
import { fleet } from "./cases/fleet.js"
import { orchestration } from "./cases/orchestration.js"
import { replay } from "./cases/replay.js"
import { scale } from "./cases/scale.js"
import { wakeup } from "./cases/wakeup.js"
import { databaseUrl, newRunId, type BenchCase, type Result } from "./lib/common.js"

const cases: ReadonlyArray<BenchCase> = [appendPg, appendSqlite, wakeup, replay, orchestration, scale, fleet]

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const onlyIndex = args.indexOf("--only")
const only =
  onlyIndex >= 0
    ? (args[onlyIndex + 1] ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "")
    : undefined
if (args.includes("--help")) {
  console.log(`usage: npm run bench -- [--quick] [--only <case>[,<case>...]]\ncases:`)
  for (const c of cases) console.log(`  ${c.name.padEnd(14)} ${c.description}`)
  process.exit(0)
}
const unknown = (only ?? []).filter((name) => !cases.some((c) => c.name === name))
if (unknown.length > 0) {
  console.error(`unknown case(s): ${unknown.join(", ")}; known: ${cases.map((c) => c.name).join(", ")}`)
  process.exit(2)
}

const format = (value: number | undefined): string => {
  if (value === undefined || Number.isNaN(value)) return "-"
  const abs = Math.abs(value)
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US")
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value.toFixed(3)
}

const printTable = (results: ReadonlyArray<Result>) => {
  const header = ["name", "value", "unit", "baseline", "ratio", "target", "met?"]
  const rows = results.map((r) => [
    r.name,
    format(r.value),
    r.unit,
    format(r.baseline),
    r.ratio === undefined ? "-" : r.ratio.toFixed(2),
    r.target ?? "-",
    r.met === undefined ? (Number.isNaN(r.value) ? "skip" : "-") : r.met ? "yes" : "NO"
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    "| " +
    cells
      .map((c, i) => (i === 0 || i === 2 || i === 5 ? c.padEnd : c.padStart).call(c, widths[i] ?? 0))
      .join(" | ") +
    " |"
  console.log(line(header))
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|")
  for (const row of rows) console.log(line(row))
  for (const r of results) if (r.note !== undefined) console.log(`  ${r.name}: ${r.note}`)
}

const main = async () => {
  const url = databaseUrl()
  const runId = newRunId()
  const started = performance.now()
  console.log(
    `dabgent bench${quick ? " --quick" : ""}: node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? "?"}), ` +
      `postgres: ${url === undefined ? "none" : "yes"}`
  )
  const results: Array<Result> = []
  for (const c of cases) {
    if (only !== undefined && !only.includes(c.name)) continue
    const t0 = performance.now()
    console.log(`\n== ${c.name}: ${c.description}`)
    try {
      const out = await c.run({
        quick,
        databaseUrl: url,
        runId,
        log: (message) => console.log(`   ${c.name}: ${message}`)
      })
      results.push(...out)
    } catch (error) {
      console.error(`   ${c.name} failed:`, error)
      results.push({ name: c.name, value: Number.NaN, unit: "-", note: `failed: ${String(error)}` })
    }
    console.log(`   (${((performance.now() - t0) / 1000).toFixed(1)} s)`)
  }
  console.log(`\nresults (${((performance.now() - started) / 1000).toFixed(1)} s total):\n`)
  printTable(results)
  const out = join(dirname(fileURLToPath(import.meta.url)), "results", "latest.json")
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(
    out,
    JSON.stringify(
      results.map((r) => ({ ...r, value: Number.isNaN(r.value) ? null : r.value })),
      null,
      2
    ) + "\n"
  )
  console.log(`\nwrote ${out}`)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)
