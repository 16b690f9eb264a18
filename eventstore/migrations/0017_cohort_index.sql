-- The cities of a round (readmodel.queries.round_city_ids, the round report's first read) are found
-- by the events that open a cycle, by the cohort they recorded. Not the projections: a city that withdrew mid-round is in no row of its
-- round any more. Without an index that read scans the whole events table (1,000,000 events, 1 %
-- of them openings, on a loaded 2-core machine: 215 ms warm; with this index 1.5 to 13 ms).
--
-- Partial: only the two opening types (a few events per city in a store of millions), so the
-- index is small and every other append never touches it. The predicate is the queries' WHERE
-- clause word for word (their type list is written into the SQL, not passed as a parameter, so
-- that the planner can prove it implies this one on every plan, a generic one too);
-- tests/integration/app/test_round_cities_index.py checks both.
--
-- Built in the migration's transaction (CREATE INDEX CONCURRENTLY cannot run in one): appends
-- wait while it is built (0.25 s for those 1,000,000 events, read from memory; a scan of the
-- table from disk where it is not).
CREATE INDEX events_opening_cohort ON events ((data ->> 'cohort'))
    WHERE type IN ('ApplicationSubmitted', 'RecertificationStarted');
