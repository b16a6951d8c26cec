-- 0017 — a returned payment (a bounced cheque, a returned transfer, a charge-back): the debit that
-- brings it back is matched to the payment it reverses (bank_transactions.payment_id) and marked 'returned'.
ALTER TABLE bank_transactions DROP CONSTRAINT bank_transactions_status_check;
ALTER TABLE bank_transactions ADD CONSTRAINT bank_transactions_status_check
    CHECK (status IN ('unmatched', 'posted', 'returned', 'ignored'));
