-- A placeholder that keeps the migrations numbered without a gap on the public-fixes branch:
-- 0016 belongs to another branch of this session. Merging that branch brings its own 0016; delete
-- this file then. It changes nothing.
SELECT 1;
