/** The Postgres schema, one migration per key (`NNNN_name`), run by `@effect/sql`'s Migrator. */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"

/** The channel every append notifies on; the payload is `<head>:<streamId>`. */
export const notifyChannel = "dabgent_events"

/** SQLSTATE raised by `dabgent_append` when `expectedVersion` does not match; DETAIL holds the actual version. */
export const versionConflictCode = "DA001"

export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0001_create_event_log": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS dabgent_streams (
      stream_id text PRIMARY KEY,
      head bigint NOT NULL
    )`
    yield* sql`CREATE TABLE IF NOT EXISTS dabgent_events (
      stream_id text NOT NULL,
      sequence bigint NOT NULL,
      aggregate_id text NOT NULL,
      version bigint NOT NULL,
      type text NOT NULL,
      data json NOT NULL,
      metadata json NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (stream_id, sequence)
    )`
    yield* sql`CREATE UNIQUE INDEX IF NOT EXISTS dabgent_events_aggregate_version
      ON dabgent_events (stream_id, aggregate_id, version)`
    // json, not jsonb: the log stores what it was given, byte for byte, including "\u0000",
    // which jsonb rejects (tool output can hold NUL characters); nothing queries inside data.
    // One round trip per append: bump the stream head (which orders appends per stream and
    // holds the row lock until commit), check the aggregate version, insert, notify on commit.
    yield* sql.unsafe(`CREATE OR REPLACE FUNCTION dabgent_append(
        p_stream text, p_aggregate text, p_expected bigint, p_types text[], p_data text[], p_metadata json)
      RETURNS TABLE (first_sequence bigint, last_sequence bigint, new_version bigint)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_count int := cardinality(p_types);
        v_head bigint;
        v_actual bigint;
      BEGIN
        INSERT INTO dabgent_streams AS s (stream_id, head) VALUES (p_stream, v_count)
          ON CONFLICT (stream_id) DO UPDATE SET head = s.head + v_count
          RETURNING s.head INTO v_head;
        SELECT coalesce(max(e.version), 0) INTO v_actual
          FROM dabgent_events e WHERE e.stream_id = p_stream AND e.aggregate_id = p_aggregate;
        IF p_expected IS NOT NULL AND p_expected <> v_actual THEN
          RAISE EXCEPTION 'aggregate % is at version %, expected %', p_aggregate, v_actual, p_expected
            USING ERRCODE = '${versionConflictCode}', DETAIL = v_actual::text;
        END IF;
        IF v_count = 1 THEN
          INSERT INTO dabgent_events (stream_id, sequence, aggregate_id, version, type, data, metadata)
            VALUES (p_stream, v_head, p_aggregate, v_actual + 1, p_types[1], p_data[1]::json, p_metadata);
        ELSE
          INSERT INTO dabgent_events (stream_id, sequence, aggregate_id, version, type, data, metadata)
            SELECT p_stream, v_head - v_count + i, p_aggregate, v_actual + i, p_types[i], p_data[i]::json, p_metadata
              FROM generate_series(1, v_count) AS i;
        END IF;
        PERFORM pg_notify('${notifyChannel}', v_head::text || ':' || p_stream);
        RETURN QUERY SELECT v_head - v_count + 1, v_head, v_actual + v_count;
      END
      $fn$`)
  })
}
