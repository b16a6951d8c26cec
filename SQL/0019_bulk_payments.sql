-- Payments and their allocation lines are written in bulk (a bank statement posts thousands in a
-- few statements): their ids are drawn ahead from the identity sequences, so each reply names its
-- own rows without relying on the order of RETURNING.
GRANT USAGE ON SEQUENCE payments_id_seq, allocations_id_seq TO ashrai_application;
