-- Reserved for the lead's migration 0013 (issue 14, rounds), which replaces this file on merge:
-- migrations are numbered without gaps, and this branch's 0014 needs a 0013 before it.
SELECT 1;
