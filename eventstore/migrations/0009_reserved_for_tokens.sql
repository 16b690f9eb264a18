-- Placeholder for migration 0009 (api tokens: expiry, one identity per role), written on another branch: migrations are
-- numbered without gaps, so this branch's 0012 needs an 0009. Delete this file when merging with
-- the branch that adds the real 0009.
SELECT 1;
