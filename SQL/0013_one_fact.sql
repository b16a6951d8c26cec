-- 0013 — values the code has always kept to, now kept by the database too. A test compares
-- every CHECK list with the Swift enumeration that writes the column (AshraiCore), so the two
-- cannot drift apart.

-- A letter's and a dunning step's action: Dunning.Action.
ALTER TABLE letters ADD CONSTRAINT letters_action_check
    CHECK (action IN ('reminder', 'letter', 'final_notice', 'hold', 'refer_to_agency'));
ALTER TABLE dunning_steps ADD CONSTRAINT dunning_steps_action_check
    CHECK (action IN ('reminder', 'letter', 'final_notice', 'hold', 'refer_to_agency'));

-- A review's grade: Grade (NULL when the review did not grade).
ALTER TABLE credit_reviews ADD CONSTRAINT credit_reviews_grade_check
    CHECK (grade IN ('A', 'B', 'C', 'D', 'E'));

-- A row that names both an invoice and a customer names the invoice's own customer.
ALTER TABLE invoices ADD CONSTRAINT invoices_id_customer_key UNIQUE (id, customer_id);
ALTER TABLE writeoffs ADD CONSTRAINT writeoffs_invoice_customer_fk
    FOREIGN KEY (invoice_id, customer_id) REFERENCES invoices (id, customer_id);
ALTER TABLE disputes ADD CONSTRAINT disputes_invoice_customer_fk
    FOREIGN KEY (invoice_id, customer_id) REFERENCES invoices (id, customer_id);
ALTER TABLE credit_notes ADD CONSTRAINT credit_notes_invoice_customer_fk
    FOREIGN KEY (invoice_id, customer_id) REFERENCES invoices (id, customer_id);

-- What is open on an invoice: the same rule as InvoiceBalance.open (nothing on a void invoice),
-- checked against it on one set of rows by a test. Callers still filter on status for speed.
CREATE OR REPLACE FUNCTION invoice_open_amount(i invoices) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN i.status = 'void' THEN 0
                ELSE i.amount - i.paid_amount - i.discount_amount - i.written_off_amount - i.credited_amount END
$$;
