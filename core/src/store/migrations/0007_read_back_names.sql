-- "Refresh" meant a token, the read-back and a budget (issue 22): the read-back's columns say
-- what they are. RENAME COLUMN needs SQLite 3.25 (iOS 16 ships 3.39).
ALTER TABLE connection_reads RENAME COLUMN refresh_due TO read_back_due;
ALTER TABLE connection_reads RENAME COLUMN refreshed_at TO read_back_at;
