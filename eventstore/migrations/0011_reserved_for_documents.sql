-- Reserved: migration 0011 was planned for documents on another branch, and migrations are numbered
-- without gaps, so 0012 (people) needs an 0011. When the branch with the real 0011 merges, delete this
-- file; if none comes, this no-op stays (a shipped migration is never edited, only added to).
SELECT 1;
