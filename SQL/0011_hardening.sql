-- 0011 — hardening: login failures are never deleted to reset a name's count (that also
-- erased them from the per-address count, so spraying one guess over many names was never
-- throttled). A name's count starts at `counted_from` instead, moved on every lock and on
-- every successful login; the per-address count reads every row in the window.
ALTER TABLE account_locks ADD COLUMN counted_from timestamptz NOT NULL DEFAULT '-infinity';

-- An attempt is written down before its password is checked (`pending`), so attempts sent at
-- the same moment count against the limit together; the right password deletes its row, a
-- wrong one clears the flag. A pending row older than a minute (its daemon died mid-check)
-- counts as a failure.
ALTER TABLE login_failures ADD COLUMN pending boolean NOT NULL DEFAULT false;
GRANT UPDATE ON login_failures TO ashrai_application;

-- One key, one outcome: a refusal (422 over the limit, 409 a number in use, …) given after
-- execution began is stored with its key like a success, and a replay answers it again.
ALTER TABLE idempotency_keys ADD COLUMN refused boolean NOT NULL DEFAULT false;
