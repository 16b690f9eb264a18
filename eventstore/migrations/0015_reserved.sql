-- A placeholder that keeps the migrations numbered without a gap on the portal-gaps branch: 0015 is
-- the state snapshots' (the append-path branch). Merging that branch replaces this file with its own
-- 0015; delete this one then. It changes nothing.
SELECT 1;
