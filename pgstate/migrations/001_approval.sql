-- Approval state shared by a fleet (replay.go, store.go).

-- approval_states: the single-use approval states (their nonces) already
-- accepted, each kept until its expiry (plus a clock-skew allowance), then
-- deleted in bounded batches.
CREATE TABLE IF NOT EXISTS {{schema}}.approval_states (
  id text PRIMARY KEY,
  expires timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS approval_states_expires ON {{schema}}.approval_states (expires);

-- approval_requests: the console's pending requests. owner is the instance
-- of the replica whose call waits for it, and lease_until how long that
-- replica vouches for the call (renewed while it waits): a decision is
-- taken only while the request is undecided and its lease alive, and the
-- owner reads it back (NOTIFY wakes it; it also polls). A request is
-- removed when its call ends. The row is the request as a whole (json, so
-- that the arguments reviewers read are kept byte for byte), so that a
-- pending approval can later become a durable task.
CREATE TABLE IF NOT EXISTS {{schema}}.approval_requests (
  id text PRIMARY KEY,
  owner text NOT NULL,
  request json NOT NULL,
  created timestamptz NOT NULL,
  deadline timestamptz NOT NULL,
  lease_until timestamptz NOT NULL,
  decision jsonb,
  decided_at timestamptz
);
CREATE INDEX IF NOT EXISTS approval_requests_created ON {{schema}}.approval_requests (created, id);
CREATE INDEX IF NOT EXISTS approval_requests_decided ON {{schema}}.approval_requests (owner) WHERE decision IS NOT NULL;
CREATE INDEX IF NOT EXISTS approval_requests_lease ON {{schema}}.approval_requests (lease_until);
