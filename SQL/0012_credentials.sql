-- 0012 — the credential and session tables and the audit trail under row-level security too.
-- After this, a session of the application role with nobody set reads no row of any table but
-- schema_migrations, and no session of it reads a password hash at all.
--
-- Who does what (the daemon's code follows the same rule):
--   * Before anyone is known — the login throttle, the password-hash lookup, the login's own
--     session row and audit rows — the daemon acts as itself: `system`, which only a login role
--     in `ashrai_jobs` can be (0011). Password change reads the hash the same way.
--   * A connection's session is checked on every request by `ashrai_session_check(token hash)`,
--     a SECURITY DEFINER function that needs the token's hash: one round trip, no listing.
--   * Everything else runs as the signed-in user, under the policies below.
--
-- `users` and `sessions` have RLS enabled, not FORCEd: the owner's SECURITY DEFINER functions
-- (ashrai_viewer() reads `users`, ashrai_session_check reads both) must read them without the
-- policies, which call ashrai_viewer() and would otherwise call themselves. The other four are
-- FORCEd like the ledger's tables.

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
-- Signed-in users read names and roles (lists, "created by" columns); staff and the daemon write;
-- a user may update their own row (password change).
CREATE POLICY signed_in_read ON users FOR SELECT USING ((SELECT ashrai_viewer()) <> 'none');
CREATE POLICY staff_insert ON users FOR INSERT WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY staff_or_self_update ON users FOR UPDATE
    USING ((SELECT ashrai_viewer() IN ('staff', 'system')) OR ((SELECT ashrai_viewer()) <> 'none' AND id::text = current_setting('ashrai.user_id', true)))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')) OR ((SELECT ashrai_viewer()) <> 'none' AND id::text = current_setting('ashrai.user_id', true)));

-- The hash is not the application's to read: every column but password_hash is granted to it;
-- password_hash only to ashrai_jobs (and there, RLS shows rows only to `system`). A migration
-- that adds a column to users must grant SELECT on it to ashrai_application.
REVOKE SELECT ON users FROM ashrai_application;
DO $$
DECLARE cols text;
BEGIN
    SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO cols
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = 'users' AND column_name <> 'password_hash';
    EXECUTE format('GRANT SELECT (%s) ON users TO ashrai_application', cols);
END
$$;
GRANT SELECT (password_hash) ON users TO ashrai_jobs;

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON sessions FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY own ON sessions FOR ALL
    USING ((SELECT ashrai_viewer()) <> 'none' AND user_id::text = current_setting('ashrai.user_id', true))
    WITH CHECK ((SELECT ashrai_viewer()) <> 'none' AND user_id::text = current_setting('ashrai.user_id', true));

-- The throttle's bookkeeping: the daemon's alone.
ALTER TABLE login_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_failures FORCE ROW LEVEL SECURITY;
CREATE POLICY system_all ON login_failures FOR ALL USING ((SELECT ashrai_viewer() = 'system'))
    WITH CHECK ((SELECT ashrai_viewer() = 'system'));
ALTER TABLE account_locks ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_locks FORCE ROW LEVEL SECURITY;
CREATE POLICY system_all ON account_locks FOR ALL USING ((SELECT ashrai_viewer() = 'system'))
    WITH CHECK ((SELECT ashrai_viewer() = 'system'));

-- The audit trail: written by whoever acts (a logout is an agency user's too), read by staff
-- (audit.list checks the role) and the daemon. Append-only stays the trigger's and the grant's.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_read ON audit_log FOR SELECT USING ((SELECT ashrai_viewer() IN ('staff', 'system')));
CREATE POLICY actor_insert ON audit_log FOR INSERT WITH CHECK ((SELECT ashrai_viewer()) <> 'none');

-- Idempotency keys: whoever is signed in (keys are per method, shared by staff); pruning is the daemon's.
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY signed_in_all ON idempotency_keys FOR ALL USING ((SELECT ashrai_viewer()) <> 'none')
    WITH CHECK ((SELECT ashrai_viewer()) <> 'none');

-- The live session behind a token's hash, with its user (the columns UserRecord reads), or no
-- row: unknown, revoked, expired, idle longer than `idle_seconds`, or the user disabled.
-- `last_seen_at` is written when it is older than 30 s, so the per-request check stays a read.
-- PL/pgSQL, not SQL: a connection caches its plans (measured with pgbench, 4 clients: 24.7k
-- calls/s against 6.9k for the same query as a SQL function with a data-modifying CTE, which
-- PostgreSQL 15 plans on every call).
CREATE FUNCTION ashrai_session_check(token_hash bytea, idle_seconds integer)
RETURNS TABLE (session_id bigint, expires_at timestamptz, user_id bigint, username text, display_name text, role text,
               agency_id bigint, must_change_password boolean, disabled boolean, created_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT s.id, s.expires_at, u.id, u.username, u.display_name, u.role, u.agency_id, u.must_change_password, false, u.created_at
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
          AND s.last_seen_at > now() - make_interval(secs => $2) AND u.disabled_at IS NULL;
    IF FOUND THEN
        UPDATE sessions s SET last_seen_at = now() WHERE s.token_hash = $1 AND s.last_seen_at < now() - interval '30 seconds';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION ashrai_session_check(bytea, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ashrai_session_check(bytea, integer) TO ashrai_application;

-- Who asks, as before (0011), in PL/pgSQL so a connection caches the users lookup's plan, and by
-- the primary key (the id as text compared to the setting could not use it). Every policy's
-- initplan calls it: measured with pgbench (4 clients, BEGIN; set_config; a users read; COMMIT)
-- 5.7k → 7.1k transactions/s.
CREATE OR REPLACE FUNCTION ashrai_viewer() RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = public AS $$
DECLARE
    who text := coalesce(current_setting('ashrai.user_id', true), '');
    seen text;
BEGIN
    IF who = 'system' THEN
        RETURN CASE WHEN pg_has_role(session_user, 'ashrai_jobs', 'MEMBER') THEN 'system' ELSE 'none' END;
    END IF;
    IF who !~ '^[0-9]{1,18}$' THEN
        RETURN 'none';
    END IF;
    SELECT CASE WHEN u.agency_id IS NULL THEN 'staff' ELSE 'agency:' || u.agency_id END INTO seen
    FROM users u WHERE u.id = who::bigint AND u.disabled_at IS NULL;
    RETURN coalesce(seen, 'none');
END
$$;
