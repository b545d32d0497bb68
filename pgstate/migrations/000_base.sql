-- The schema itself and its migration table are created by Migrate; the
-- later migrations add the tables of each part (approvals, rate limits).
SELECT 1;
