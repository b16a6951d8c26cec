-- 0015 — channels and the letters that are not dunning: a level names its channels, a message
-- that fails for good falls back to the next one, SMS and WhatsApp go through an HTTP gateway,
-- and the agency referral notice, the plan confirmation and the statement on demand are letters
-- delivered by the same outbox.

-- A letter is anything written to a customer (AshraiCore.LetterKind). Only dunning letters have a
-- level, an action and a last date to pay.
ALTER TABLE letters ADD COLUMN kind text NOT NULL DEFAULT 'dunning'
    CHECK (kind IN ('dunning', 'agency_referral', 'plan_confirmation', 'statement'));
ALTER TABLE letters ALTER COLUMN level DROP NOT NULL;
ALTER TABLE letters ALTER COLUMN action DROP NOT NULL;
ALTER TABLE letters ALTER COLUMN last_date_to_pay DROP NOT NULL;
ALTER TABLE letters ADD CONSTRAINT letters_dunning_facts
    CHECK (kind <> 'dunning' OR (level IS NOT NULL AND action IS NOT NULL AND last_date_to_pay IS NOT NULL));

-- Where a message goes if it fails for good (AshraiCore.ChannelPlan), and the exact bytes handed
-- over: the RFC 5322 message for e-mail (attachments included), the JSON body for a gateway.
ALTER TABLE messages ADD COLUMN fallback text[] NOT NULL DEFAULT '{}';
ALTER TABLE messages ADD COLUMN raw bytea;
ALTER TABLE messages ADD COLUMN raw_sha256 text;

-- A sent message's interaction points at the message, and so at the bytes sent.
ALTER TABLE interactions ADD COLUMN message_id bigint REFERENCES messages (id);
CREATE INDEX interactions_message_idx ON interactions (message_id) WHERE message_id IS NOT NULL;

-- A customer who wants a courtesy reminder before the due date; a phone number a gateway refused.
ALTER TABLE customers ADD COLUMN courtesy_reminders boolean NOT NULL DEFAULT false;
ALTER TABLE customers ADD COLUMN phone_refused_at timestamptz;
GRANT SELECT (courtesy_reminders, phone_refused_at), INSERT (courtesy_reminders),
      UPDATE (courtesy_reminders, phone_refused_at) ON customers TO ashrai_application;

-- The referral notice an assignment waits for: the assignment becomes active, with
-- customer_notified_on the business's day it was sent, when the notice is sent.
ALTER TABLE assignments ADD COLUMN notice_letter_id bigint REFERENCES letters (id);
CREATE UNIQUE INDEX assignments_notice_letter_idx ON assignments (notice_letter_id) WHERE notice_letter_id IS NOT NULL;

-- The confirmation written when a plan is agreed.
ALTER TABLE plans ADD COLUMN confirmation_letter_id bigint REFERENCES letters (id);
