-- The least-privilege role of an mcpkit replica (package pgstate).
--
-- The replicas read and write rows, nothing else: no CREATE, ALTER, DROP or
-- TRUNCATE, no access outside the schema. The schema is created and
-- migrated by its owner (an admin role), with pgstate.Migrate, before the
-- replicas start or on upgrade; the replicas call pgstate.Check, which only
-- reads <schema>.schema_migrations.
--
-- Run as the schema's owner after Migrate, with {{schema}} and {{role}}
-- replaced (pgstate.Grants returns this text so). Create the role first,
-- for example: CREATE ROLE mcpkit_replica LOGIN PASSWORD '...';
-- A later migration that adds a table adds its line here.

GRANT USAGE ON SCHEMA {{schema}} TO {{role}};
GRANT SELECT ON {{schema}}.schema_migrations TO {{role}};
-- Single-use approval states: INSERT to use one; SELECT, UPDATE (the
-- cleanup's FOR UPDATE SKIP LOCKED) and DELETE to remove expired ones.
GRANT SELECT, INSERT, UPDATE, DELETE ON {{schema}}.approval_states TO {{role}};
-- Console requests and decisions.
GRANT SELECT, INSERT, UPDATE, DELETE ON {{schema}}.approval_requests TO {{role}};
-- Shared rate limits.
GRANT SELECT, INSERT, UPDATE, DELETE ON {{schema}}.rate_limits TO {{role}};
