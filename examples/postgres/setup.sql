-- setup.sql: the least-privilege role the postgres MCP server connects as.
--
-- Run it as a superuser (or the owner of the schema and a role with
-- CREATEROLE) in the database the server will read, once per schema to
-- expose. It is idempotent: run it again to change the password or grant
-- another schema.
--
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 \
--        -v role=mcp_reader -v password="$MCP_READER_PASSWORD" -v schema=shop \
--        -f examples/postgres/setup.sql
--
-- Variables (psql -v name=value):
--   role               required  the login role to create or update
--   schema             required  the schema whose tables it may SELECT
--   password           optional  its password; omit for peer/cert/IAM auth
--                                (note: the statement carrying it may reach
--                                the server log if log_statement is on)
--   connection_limit   optional  default 5; keep the server's -max-conns below it
--   statement_timeout  optional  default '5s'; the server also sets its own
--                                per call with SET LOCAL
--
-- What the role can do afterwards: connect to this database, use the given
-- schema(s) and SELECT their tables and views (including ones created later
-- by the role running this script). What it cannot do: write anything
-- (every session defaults to read-only, and it holds no write privilege),
-- create objects, read other schemas' data, run server programs or read
-- server files, signal other roles' backends, or hold more than
-- connection_limit connections.

\set ON_ERROR_STOP on
\if :{?role}
\else
  DO $$ BEGIN RAISE EXCEPTION 'setup.sql: set the role name with -v role=mcp_reader'; END $$;
\endif
\if :{?schema}
\else
  DO $$ BEGIN RAISE EXCEPTION 'setup.sql: set the schema to expose with -v schema=shop'; END $$;
\endif
\if :{?connection_limit}
\else
  \set connection_limit 5
\endif
\if :{?statement_timeout}
\else
  \set statement_timeout '5s'
\endif

BEGIN;

-- 1. The role: a login with no attributes beyond LOGIN.
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS create_role \gset
\if :create_role
  CREATE ROLE :"role" LOGIN;
\endif
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  CONNECTION LIMIT :connection_limit;
\if :{?password}
  ALTER ROLE :"role" WITH PASSWORD :'password';
\endif

-- 2. Session defaults, applied at every login: read-only transactions and a
--    statement timeout, so that even a session that bypassed the server
--    (psql with these credentials) cannot write or run forever.
ALTER ROLE :"role" SET default_transaction_read_only = on;
ALTER ROLE :"role" SET statement_timeout = :'statement_timeout';
ALTER ROLE :"role" SET idle_in_transaction_session_timeout = '60s';

-- 3. Privileges: CONNECT on this database, USAGE and SELECT on the schema.
SELECT current_database() AS dbname \gset
GRANT CONNECT ON DATABASE :"dbname" TO :"role";
GRANT USAGE ON SCHEMA :"schema" TO :"role";
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO :"role";
-- Tables the role running this script creates later in the schema.
ALTER DEFAULT PRIVILEGES IN SCHEMA :"schema" GRANT SELECT ON TABLES TO :"role";

-- 4. Nothing to create in public. PostgreSQL 15 and later already revoke
--    CREATE on public from PUBLIC; on older versions this is the fix for
--    CVE-2018-1058 and affects every role, which is the point.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM :"role";
REVOKE CREATE ON DATABASE :"dbname" FROM :"role";
--    TEMPORARY on the database comes from PUBLIC and is left alone (revoking
--    it affects every role); a read-only transaction refuses CREATE TEMP.

-- 5. Verify: fail (and roll back) rather than leave a role that is more
--    than it should be. psql does not expand :variables inside a DO body,
--    so the role name travels in a transaction-local setting.
SELECT set_config('mcpkit.setup_role', :'role', true);
DO $verify$
DECLARE
  r pg_roles%ROWTYPE;
  member text;
BEGIN
  SELECT * INTO r FROM pg_roles WHERE rolname = current_setting('mcpkit.setup_role');
  IF r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls THEN
    RAISE EXCEPTION 'role % has privileged attributes; it must be a plain LOGIN role', r.rolname;
  END IF;
  SELECT string_agg(g.rolname, ', ') INTO member
    FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid;
  IF member IS NOT NULL THEN
    RAISE EXCEPTION 'role % is a member of %; revoke those memberships (REVOKE ... FROM %) so it holds only what this script grants',
      r.rolname, member, r.rolname;
  END IF;
END
$verify$;

COMMIT;

-- What was set, for the operator to read.
SELECT r.rolname AS role, r.rolconnlimit AS connection_limit, s.setconfig AS session_defaults
FROM pg_roles r LEFT JOIN pg_db_role_setting s ON s.setrole = r.oid AND s.setdatabase = 0
WHERE r.rolname = :'role';
