-- Reserved: migration 0010 was planned for imports on another branch, and migrations are numbered
-- without gaps, so 0012 (people) needs an 0010. When the branch with the real 0010 merges, delete this
-- file; if none comes, this no-op stays (a shipped migration is never edited, only added to).
SELECT 1;
