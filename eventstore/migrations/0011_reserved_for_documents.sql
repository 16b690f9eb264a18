-- Placeholder for migration 0011 (documents), written on another branch: migrations are
-- numbered without gaps, so this branch's 0012 needs an 0011. Delete this file when merging with
-- the branch that adds the real 0011.
SELECT 1;
