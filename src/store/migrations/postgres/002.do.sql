-- The suspend switch, one row, shared by every instance that uses this database.
-- Instants are ms since the Unix epoch; booleans are 0 or 1.

CREATE TABLE suspension (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  suspended  INTEGER NOT NULL,
  until_at   BIGINT,
  reason     TEXT,
  auto       INTEGER NOT NULL,
  since      BIGINT
);
