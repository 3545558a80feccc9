-- The database's own ceiling for one booking, for bench/flash_crowd.py: every transaction locks
-- the one session row (as book_session does with SELECT ... FOR UPDATE) and inserts one booking.
-- The scratch tables pgbench_flash_session and pgbench_flash_booking are made by flash_crowd.py.
\set pupils random(15, 28)
BEGIN;
SELECT capacity_pupils FROM pgbench_flash_session WHERE id = 1 FOR UPDATE;
INSERT INTO pgbench_flash_booking (session_id, pupils) VALUES (1, :pupils);
END;
