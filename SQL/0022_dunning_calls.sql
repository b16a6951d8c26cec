-- 0022 — a dunning level may be a call (issue 17): the run makes a `call` task for the customer's owner and
-- writes no letter, so only dunning_steps learn the action; letters never carry it.
ALTER TABLE dunning_steps DROP CONSTRAINT dunning_steps_action_check;
ALTER TABLE dunning_steps ADD CONSTRAINT dunning_steps_action_check
    CHECK (action IN ('call', 'reminder', 'letter', 'final_notice', 'hold', 'refer_to_agency'));
