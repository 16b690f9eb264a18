-- The review queues read in the order they answer (readmodel/queries.py: soonest due first, then
-- by city and criterion), so a page of them costs the same however many items are open. Before,
-- every read sorted every open item for its first 50: at 10^5 cities (about 475,000 open items)
-- the operators' queue took 60-76 ms and a reviewer's 115-120 ms, growing with the store
-- (bench/growth.py).
--
-- - review_queue_due: every open item in the queues' order; the operators' queue unfiltered.
-- - review_queue_unassigned: the items waiting on any reviewer, in that order; the part of a
--   reviewer's queue not yet assigned. Partial, with the query's predicate word for word, so the
--   planner can prove it on every plan (a generic one too).
-- - review_queue_reviewer, again with the whole order: a reviewer's assigned items, and the
--   operators' queue filtered by reviewer. The load count (reviewer_id = ANY) reads its first
--   column as before.
--
-- Each index is one more entry an item's insert or move writes (an item's status or due date
-- changes on most review appends, and those updates were not HOT already: due_at was indexed).
-- Built in the migration's transaction: appends wait while they are built (well under a second
-- for 475,000 items read from memory).
CREATE INDEX review_queue_due ON review_queue (due_at, city_id, criterion_id);
CREATE INDEX review_queue_unassigned ON review_queue (due_at, city_id, criterion_id)
    WHERE reviewer_id IS NULL AND waiting_on = 'reviewer';
DROP INDEX review_queue_reviewer;
CREATE INDEX review_queue_reviewer ON review_queue (reviewer_id, due_at, city_id, criterion_id);
