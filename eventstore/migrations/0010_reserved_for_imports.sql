-- Placeholder for migration 0010 (imports), written on another branch: migrations are
-- numbered without gaps, so this branch's 0012 needs an 0010. Delete this file when merging with
-- the branch that adds the real 0010.
SELECT 1;
