-- The pusher asks for the next due entries of a connection, the till's changes before the
-- automatic `received` (outbox::due_heads). Ordered by an expression no index held, SQLite read
-- and sorted every unfinished entry at each ask: 7 ms with 10,000 waiting, asked once for every
-- few orders, so a drained backlog's pushes took a minute of CPU. This index holds that order:
-- the ask reads the first due entries and stops. Expression indexes need SQLite 3.9.
CREATE INDEX outbox_next ON outbox (connection_id, kind = 'received', seq) WHERE finished_at IS NULL;
