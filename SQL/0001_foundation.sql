-- 0001 — foundation: what the application role may see of the bookkeeping, and the
-- append-only audit log every later write records itself in.
--
-- The daemon connects as a login role that is a member of `ashrai_application` (created by
-- `ashraid migrate` before any migration runs). Every migration grants that group exactly
-- what the daemon needs on the objects it creates — nothing by default.

GRANT USAGE ON SCHEMA public TO ashrai_application;
GRANT SELECT ON schema_migrations TO ashrai_application;

CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    actor_user_id  bigint,                       -- NULL for the system itself
    actor_username text,
    action         text NOT NULL CHECK (action <> ''),   -- e.g. 'customers.update'
    entity_type    text NOT NULL CHECK (entity_type <> ''),
    entity_id      text,
    before         jsonb,
    after          jsonb,
    context        jsonb NOT NULL DEFAULT '{}'::jsonb    -- connection, request id, reason …
);

CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, id);
CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, id);

-- Refuse changes even from the owner: the trail is evidence.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- And by privilege: the application may read and append, nothing else.
REVOKE ALL ON audit_log FROM PUBLIC;
GRANT SELECT, INSERT ON audit_log TO ashrai_application;
