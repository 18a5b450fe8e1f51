-- Row-level security used to let a HIT-level agency read the whole cases
-- row (external_ref, status, dates, actor names): the server never sent
-- them, but a wrong query could have. Now cases rows are visible from
-- RESTRICTED up (and to the owner); what a HIT may know comes only from
-- ritra_case_hit(), which returns exactly the HIT fields.

DROP POLICY cases_read ON cases;
CREATE POLICY cases_read ON cases FOR SELECT
    USING (owner_agency_id = ritra_current_agency()
           OR ritra_case_level(case_id, ritra_current_agency()) >= 2);

CREATE FUNCTION ritra_case_hit(p_case uuid,
    OUT case_id uuid, OUT owner_agency_id integer, OUT handling_code text,
    OUT h3_allow_hits boolean)
RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT c.case_id, c.owner_agency_id, c.handling_code, c.h3_allow_hits
      FROM cases c
     WHERE c.case_id = p_case
       AND (c.owner_agency_id = ritra_current_agency()
            OR ritra_case_level(c.case_id, ritra_current_agency()) >= 1)
$$;

REVOKE ALL ON FUNCTION ritra_case_hit(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ritra_case_hit(uuid) TO ritra_app;
