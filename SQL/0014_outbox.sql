-- 0014 — the outbox: every letter that must reach the customer becomes one message per channel,
-- delivered by the daemons' outbox workers exactly once as far as the protocol allows.
--
-- States (AshraiCore.MessageState): queued → sending → sent; retrying (a temporary failure, tried
-- again at next_attempt_at), failed (permanent, or out of attempts), cancelled (the letter no longer
-- stands, or staff cancelled it), unknown (found in `sending` after a crash: it may or may not have
-- gone out, so it is not resent blindly — staff decide; a retry keeps the Message-ID).
CREATE TABLE messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    letter_id       bigint REFERENCES letters (id),
    customer_id     bigint NOT NULL REFERENCES customers (id),
    channel         text NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp', 'post')),
    recipient       text NOT NULL,
    subject         text NOT NULL,
    body_text       text NOT NULL,
    body_html       text,
    attachments     jsonb NOT NULL DEFAULT '[]',          -- [{name, content_type, sha256}]
    message_id      text NOT NULL UNIQUE,                  -- stable across retries (RFC 5322 Message-ID)
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'retrying', 'failed', 'cancelled', 'unknown')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    provider_id     text,
    cancel_reason   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sending_at      timestamptz,
    sent_at         timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (letter_id, channel)
);
CREATE INDEX messages_due_idx ON messages (next_attempt_at, id) WHERE state IN ('queued', 'retrying');
CREATE INDEX messages_state_idx ON messages (state, id);
CREATE INDEX messages_customer_idx ON messages (customer_id, id);
GRANT SELECT, INSERT, UPDATE ON messages TO ashrai_application;

ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_all ON messages FOR ALL USING ((SELECT ashrai_viewer() IN ('staff', 'system')))
    WITH CHECK ((SELECT ashrai_viewer() IN ('staff', 'system')));

-- An address the mail server refused permanently (5xx at RCPT): no more e-mail to it until a
-- person changes the address (customers.update clears the flag).
ALTER TABLE customers ADD COLUMN email_refused_at timestamptz;
GRANT SELECT (email_refused_at), UPDATE (email_refused_at) ON customers TO ashrai_application;
