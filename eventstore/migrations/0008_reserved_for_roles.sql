-- Placeholder for migration 0008 (database roles), written on another branch: migrations are
-- numbered without gaps, so this branch's 0009 needs an 0008. Delete this file when merging with
-- the branch that adds the real 0008.
SELECT 1;
