-- Row-level security on cases from RESTRICTED up, again, and the HIT reads
-- restructured so that it does not cost a table scan.
--
-- 0008 hid cases rows from HIT-level agencies, but the reads went through
-- a per-row function and planned as scans of case_records applying the
-- policy to every row (the access test: 9 s -> 180 s); 0009 rolled it back
-- and left the whole cases row (external_ref, status, dates) readable at
-- HIT by the server's role. Now the reads that can return a HIT (GetCase,
-- SyncPull) get a case's head from ritra_case_heads(): one set-based call
-- per statement (ritra_case_levels, 0013) that returns the HIT fields at
-- HIT and the content columns only from RESTRICTED up; the cases policy no
-- longer admits HIT rows at all.

DROP POLICY cases_read ON cases;
CREATE POLICY cases_read ON cases FOR SELECT
    USING (owner_agency_id = ritra_current_agency()
           OR ritra_case_level(case_id, ritra_current_agency()) >= 2);

-- The acting agency's view of a set of cases' rows: only cases at HIT or
-- above; version, dates, status, person count and external_ref only from
-- RESTRICTED up (NULL at HIT). level and the inputs it was decided from
-- (owner, handling code, grants, kind default) are what server/policy.c
-- decides again.
CREATE FUNCTION ritra_case_heads(p_cases uuid[])
RETURNS TABLE (case_id uuid, owner_code text, version bigint, created_at timestamptz,
               updated_at timestamptz, status text, handling_code text, person_count integer,
               external_ref text, level smallint, owner_agency_id integer,
               h3_allow_hits boolean, direct smallint, by_kind smallint, kind_default smallint,
               owner_name text, contact text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    RETURN QUERY
    SELECT l.case_id, l.owner_code,
           CASE WHEN l.case_level >= 2 THEN c.version END,
           CASE WHEN l.case_level >= 2 THEN c.created_at END,
           CASE WHEN l.case_level >= 2 THEN c.updated_at END,
           CASE WHEN l.case_level >= 2 THEN c.status END,
           l.handling_code,
           CASE WHEN l.case_level >= 2 THEN c.person_count END,
           CASE WHEN l.case_level >= 2 THEN c.external_ref END,
           l.case_level, l.owner_agency_id, l.h3_allow_hits, l.direct, l.by_kind,
           l.kind_default, l.owner_name, l.contact
      FROM ritra_case_levels(p_cases, ag) l
      JOIN cases c ON c.case_id = l.case_id
     WHERE l.case_level >= 1;
END
$$;

-- Superseded by ritra_case_heads.
DROP FUNCTION ritra_case_hit(uuid);

REVOKE ALL ON FUNCTION ritra_case_heads(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ritra_case_heads(uuid[]) TO ritra_app;
