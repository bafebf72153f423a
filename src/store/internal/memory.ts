/** The in-memory backend: one array per stream, index = sequence - 1. */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { EventStore } from "../EventStore.js"
import { ConcurrencyError } from "../EventStoreError.js"
import { matchesQuery, type AppendRequest, type StoredEvent } from "../StoredEvent.js"
import { make as makeStore, type PageRequest } from "./makeStore.js"
import * as StreamHeads from "./StreamHeads.js"

interface MemoryStream {
  readonly events: Array<StoredEvent>
  readonly versions: Map<string, number>
}

export const make = (): EventStore["Type"] => {
  const streams = new Map<string, MemoryStream>()
  const stream = (streamId: string): MemoryStream => {
    let found = streams.get(streamId)
    if (found === undefined) {
      found = { events: [], versions: new Map() }
      streams.set(streamId, found)
    }
    return found
  }

  const append = (request: AppendRequest) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const target = stream(request.streamId)
      const actual = target.versions.get(request.aggregateId) ?? 0
      const expected = request.expectedVersion ?? "any"
      if (expected !== "any" && expected !== actual) {
        return Effect.fail(
          new ConcurrencyError({
            streamId: request.streamId,
            aggregateId: request.aggregateId,
            expected,
            actual
          })
        )
      }
      const createdAt = new Date(now)
      const firstSequence = target.events.length + 1
      request.events.forEach((event, index) => {
        target.events.push({
          streamId: request.streamId,
          aggregateId: request.aggregateId,
          sequence: firstSequence + index,
          version: actual + index + 1,
          type: event.type,
          // A copy, so a caller mutating its object later cannot rewrite history.
          data: structuredClone(event.data),
          metadata: structuredClone(request.metadata ?? {}),
          createdAt
        })
      })
      const version = actual + request.events.length
      target.versions.set(request.aggregateId, version)
      return Effect.succeed({ firstSequence, lastSequence: target.events.length, version })
    })

  const readPage = ({ query, after, upTo, limit }: PageRequest) =>
    Effect.sync(() => {
      const events = streams.get(query.streamId)?.events ?? []
      const page: Array<StoredEvent> = []
      const end = Math.min(upTo, events.length)
      for (let index = Math.max(after, 0); index < end && page.length < limit; index++) {
        const event = events[index]
        if (event !== undefined && matchesQuery(query, event)) page.push(event)
      }
      return { events: page }
    })

  return makeStore({
    append,
    readPage,
    head: (streamId) => Effect.sync(() => streams.get(streamId)?.events.length ?? 0),
    heads: StreamHeads.make(),
    pollInterval: Option.none(),
    pageSize: 1000
  })
}
