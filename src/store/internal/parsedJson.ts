/**
 * Stored events whose `data` came out of `JSON.parse` in a backend (the SQL stores), so a
 * decoder may skip re-checking that it is JSON. They are instances of one class, which costs
 * nothing per event to recognise; the memory store keeps plain copies of what was appended,
 * and a copy made by spreading an event is plain too: both are checked as usual.
 */
import type { EventMetadata, StoredEvent } from "../StoredEvent.js"

export class ParsedStoredEvent implements StoredEvent {
  constructor(
    readonly streamId: string,
    readonly aggregateId: string,
    readonly sequence: number,
    readonly version: number,
    readonly type: string,
    readonly data: unknown,
    readonly metadata: EventMetadata,
    readonly createdAt: Date
  ) {}
}

export const isParsedJson = (stored: StoredEvent): boolean => stored instanceof ParsedStoredEvent
