-- Shared rate limits (Limiter): one row per key whose bucket is not full,
-- holding its theoretical arrival time (GCRA). The key is the SHA-256 of
-- the limiter key: fixed size, any bytes, no collisions between callers.
-- tat is not indexed and the fill factor leaves room on each page, so the
-- update every decision makes is a HOT update (no index write).
CREATE TABLE {{schema}}.rate_limits (
  key bytea PRIMARY KEY CHECK (octet_length(key) = 32),
  tat timestamptz NOT NULL
) WITH (fillfactor = 70);
