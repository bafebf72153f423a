/** Turning database rows into `StoredEvent`s, failing with `DecodeError` on a damaged row. */
import { DecodeError } from "../EventStoreError.js"
import type { EventMetadata, StoredEvent } from "../StoredEvent.js"
import type { Page } from "./makeStore.js"
import { ParsedStoredEvent } from "./parsedJson.js"

export interface EventRow {
  readonly stream_id: string
  readonly sequence: number
  readonly aggregate_id: string
  readonly version: number
  readonly type: string
  readonly data: unknown
  readonly metadata: unknown
  readonly created_at: Date | number | string
}

const isRecord = (value: unknown): value is EventMetadata =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Rows whose `data` / `metadata` columns hold JSON text (SQLite) or parsed JSON (Postgres).
 * Decoding stops at the first damaged row: the events before it are kept, the row is reported.
 */
const damagedPage = (events: Array<StoredEvent>, row: EventRow, reason: string): Page => ({
  events,
  damaged: new DecodeError({
    streamId: row.stream_id,
    sequence: Number(row.sequence),
    type: row.type,
    reason
  })
})

// A loop without a closure per row: replays go through here for every event.
export const toPage = (rows: ReadonlyArray<EventRow>, json: "text" | "parsed"): Page => {
  const events: Array<StoredEvent> = []
  for (const row of rows) {
    let data: unknown
    let metadata: unknown
    if (json === "text") {
      if (typeof row.data !== "string" || typeof row.metadata !== "string")
        return damagedPage(events, row, "data is not JSON text")
      try {
        data = JSON.parse(row.data)
      } catch (error) {
        return damagedPage(events, row, `data is not valid JSON (${String(error)})`)
      }
      try {
        metadata = JSON.parse(row.metadata)
      } catch (error) {
        return damagedPage(events, row, `metadata is not valid JSON (${String(error)})`)
      }
    } else {
      data = row.data
      metadata = row.metadata
    }
    if (!isRecord(metadata)) return damagedPage(events, row, "metadata is not a JSON object")
    const createdAt = row.created_at instanceof Date ? row.created_at : new Date(row.created_at)
    if (Number.isNaN(createdAt.getTime())) return damagedPage(events, row, "created_at is not a timestamp")
    // Both the text and the parsed form (node-pg parses json columns with JSON.parse) are JSON.
    events.push(
      new ParsedStoredEvent(
        row.stream_id,
        row.aggregate_id,
        Number(row.sequence),
        Number(row.version),
        row.type,
        data,
        metadata,
        createdAt
      )
    )
  }
  return { events }
}

export const encodeJson = (value: unknown): string => JSON.stringify(value) ?? "null"
