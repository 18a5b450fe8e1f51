-- Deduplication: every person record is linked to an identity (a cluster
-- of records believed to be one human being). docs/matching.md describes
-- the matcher, docs/search.md who sees what of its results.
--
-- * A trigger queues every inserted or changed person record; the server's
--   matcher (server/matcher.c) takes the queue in batches, scores the
--   candidates that share a blocking key, and applies its decisions with
--   ritra_match_apply() under one advisory lock, the lock every review
--   decision also takes. Linking never alters persons or cases.
-- * The server's role has no privilege on these tables: it reaches them only
--   through the SECURITY DEFINER functions below, which check who acts. The
--   matcher's functions work only in a transaction that started with
--   ritra_match_begin() and never named an agency; the agency functions only
--   in one that did (ritra_act_as()).

CREATE TABLE match_persons (
    person_id       uuid PRIMARY KEY REFERENCES persons (person_id) ON DELETE CASCADE,
    case_id         uuid NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
    owner_agency_id integer NOT NULL REFERENCES agencies (agency_id),
    role            text NOT NULL CHECK (role IN ('Victim', 'Suspect', 'Witness', 'Other')),
    identity_id     uuid NOT NULL,
    person_pb       bytea NOT NULL, -- the packed ritra.Person as submitted, as compared
    linked_by       text NOT NULL CHECK (linked_by IN ('new', 'auto', 'confirm', 'merge', 'unmerge')),
    linked_score    real,
    matched_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX match_persons_identity_idx ON match_persons (identity_id);
CREATE INDEX match_persons_case_idx ON match_persons (case_id);

-- Blocking keys (server/match/score_block.c): only records sharing a key
-- are ever scored against each other.
CREATE TABLE match_keys (
    key       text NOT NULL CHECK (length(key) BETWEEN 1 AND 80),
    person_id uuid NOT NULL REFERENCES match_persons (person_id) ON DELETE CASCADE,
    PRIMARY KEY (key, person_id)
);

CREATE INDEX match_keys_person_idx ON match_keys (person_id);

-- One row per change: a trigger only ever inserts (never updates a row the
-- matcher may be deleting), so a submission never waits for the matcher.
CREATE TABLE match_queue (
    seq         bigserial PRIMARY KEY,
    person_id   uuid NOT NULL REFERENCES persons (person_id) ON DELETE CASCADE,
    enqueued_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX match_queue_person_idx ON match_queue (person_id, seq);

-- Pairs the matcher could not decide alone (POSSIBLE_MATCH, or MATCH held
-- back by a rule), and every decision about a pair. A REJECTED row is the
-- memory that keeps the pair from being proposed or linked again.
CREATE TABLE match_candidates (
    candidate_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_a      uuid NOT NULL REFERENCES match_persons (person_id) ON DELETE CASCADE,
    person_b      uuid NOT NULL REFERENCES match_persons (person_id) ON DELETE CASCADE,
    score         real NOT NULL,
    match_class   text NOT NULL CHECK (match_class IN ('MATCH', 'POSSIBLE_MATCH', 'NO_MATCH')),
    explanation   text NOT NULL DEFAULT '', -- "given=EXACT=5.10;surname=SWAPPED=9.00;..."

    caps          integer NOT NULL DEFAULT 0,
    status        text NOT NULL DEFAULT 'PENDING'
                  CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz,
    decided_by    integer REFERENCES agencies (agency_id),
    decided_actor text,
    reason        text,
    CHECK (person_a < person_b),
    CHECK ((status = 'PENDING') = (decided_at IS NULL)),
    UNIQUE (person_a, person_b)
);

CREATE INDEX match_candidates_b_idx ON match_candidates (person_b);

-- Who decided what about identities, and why (the audit trail records the
-- request as well).
CREATE TABLE identity_events (
    event_id          bigserial PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT now(),
    agency_id         integer NOT NULL REFERENCES agencies (agency_id),
    actor             text,
    action            text NOT NULL CHECK (action IN ('confirm', 'reject', 'merge', 'unmerge')),
    identity_id       uuid,
    other_identity_id uuid,
    person_id         uuid,
    candidate_id      uuid,
    records           integer,
    reason            text NOT NULL
);

-- How many person records carry each folded name token: rare names weigh
-- more than common ones. kind g = given name, s = surname, p = the
-- population (token '').
CREATE TABLE match_name_freq (
    kind    text NOT NULL CHECK (kind IN ('g', 's', 'p')),
    token   text NOT NULL,
    persons bigint NOT NULL CHECK (persons >= 0),
    PRIMARY KEY (kind, token)
);

INSERT INTO match_name_freq (kind, token, persons) VALUES ('p', '', 0);

ALTER TABLE match_persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE match_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE match_queue ENABLE ROW LEVEL SECURITY;
ALTER TABLE match_candidates ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE match_name_freq ENABLE ROW LEVEL SECURITY;

-- Every inserted or changed person record waits for the matcher.
CREATE FUNCTION ritra_match_enqueue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO match_queue (person_id) VALUES (NEW.person_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER persons_match_enqueue AFTER INSERT OR UPDATE ON persons
    FOR EACH ROW EXECUTE FUNCTION ritra_match_enqueue();
-- Documents live in their own table; a change there changes the person.
CREATE TRIGGER person_documents_match_enqueue AFTER INSERT ON person_documents
    FOR EACH ROW EXECUTE FUNCTION ritra_match_enqueue();

-- The matcher's transactions: no agency, and this flag.
CREATE FUNCTION ritra_match_begin() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF ritra_current_agency() IS NOT NULL THEN
        RAISE EXCEPTION 'the matcher cannot run in an agency''s transaction' USING ERRCODE = '42501';
    END IF;
    PERFORM set_config('ritra.matcher', 'on', true);
END
$$;

CREATE FUNCTION ritra_match_check() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('ritra.matcher', true), '') <> 'on'
       OR ritra_current_agency() IS NOT NULL THEN
        RAISE EXCEPTION 'matcher functions run only in the matcher''s transactions'
              USING ERRCODE = '42501';
    END IF;
END
$$;

-- The next persons to match, oldest change first, each with its latest
-- queue position, the case record it comes from and its current identity
-- (a changed record keeps it).
CREATE FUNCTION ritra_match_claim(p_limit integer)
RETURNS TABLE (person_id uuid, seq bigint, case_id uuid, owner_agency_id integer, person_ref text,
               record bytea, identity_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ritra_match_check();
    RETURN QUERY
    SELECT q.person_id, q.seq, p.case_id, c.owner_agency_id, p.person_ref, r.record, m.identity_id
      FROM (SELECT x.person_id, max(x.seq) AS seq, min(x.seq) AS first
              FROM (SELECT h.person_id FROM match_queue h ORDER BY h.seq LIMIT p_limit) hd
              JOIN match_queue x ON x.person_id = hd.person_id
             GROUP BY x.person_id) q
      JOIN persons p ON p.person_id = q.person_id
      JOIN cases c ON c.case_id = p.case_id
      JOIN case_records r ON r.case_id = p.case_id AND r.variant = 'full'
      LEFT JOIN match_persons m ON m.person_id = q.person_id
     ORDER BY q.first;
END
$$;

-- Records sharing a key with subject idx; blocks holding more than p_cap
-- records are skipped (a common name with a common year says little).
CREATE FUNCTION ritra_match_candidates(p_idx integer[], p_keys text[], p_cap integer)
RETURNS TABLE (idx integer, person_id uuid, identity_id uuid, person_pb bytea)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ritra_match_check();
    RETURN QUERY
    SELECT DISTINCT ON (k.idx, m.person_id) k.idx, m.person_id, m.identity_id, m.person_pb
      FROM unnest(p_idx, p_keys) AS k (idx, key)
     CROSS JOIN LATERAL (SELECT array_agg(s.person_id) AS ids
                           FROM (SELECT mk.person_id FROM match_keys mk
                                  WHERE mk.key = k.key LIMIT p_cap + 1) s) b
      JOIN match_persons m ON m.person_id = ANY (b.ids)
     WHERE cardinality(b.ids) <= p_cap
     ORDER BY k.idx, m.person_id;
END
$$;

-- The rejected pairs involving these persons: never linked automatically.
CREATE FUNCTION ritra_match_rejected(p_persons uuid[])
RETURNS TABLE (person_a uuid, person_b uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ritra_match_check();
    RETURN QUERY
    SELECT c.person_a, c.person_b FROM match_candidates c
     WHERE c.status = 'REJECTED' AND (c.person_a = ANY (p_persons) OR c.person_b = ANY (p_persons));
END
$$;

-- The name-frequency table, for the matcher's weights.
CREATE FUNCTION ritra_match_name_freq()
RETURNS TABLE (kind text, token text, persons bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ritra_match_check();
    RETURN QUERY SELECT f.kind, f.token, f.persons FROM match_name_freq f;
END
$$;

-- Applies the matcher's decisions for a batch, in order. Each element:
--   {"person_id", "seq", "identity_id", "linked_by", "score", "role",
--    "case_id", "owner", "pb" (hex), "keys": [...], "tokens": ["g:maria", ...],
--    "expect": [{"p": person, "i": identity}, ...],
--    "candidates": [{"other", "score", "class", "explanation", "caps"}, ...]}
-- "expect" lists what the decision was based on: if any of those records
-- changed identity since (a review decision, another server's matcher), the
-- whole batch fails with 40001 and the matcher starts it again. A person no
-- longer queued was done by another server's matcher: it is skipped; one marked "drop" only leaves the queue. Returns the
-- number of persons applied.
CREATE FUNCTION ritra_match_apply(p_batch jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    e jsonb;
    pid uuid;
    fresh boolean;
    n integer := 0;
BEGIN
    PERFORM ritra_match_check();
    PERFORM pg_advisory_xact_lock(7419, 1);
    -- The batch's person rows first, in one order: a submission changing one
    -- of them finishes before (or waits until after) this, never in between.
    PERFORM 1 FROM persons p
      WHERE p.person_id IN (SELECT (x->>'person_id')::uuid FROM jsonb_array_elements(p_batch) x)
      ORDER BY p.person_id FOR KEY SHARE;
    FOR e IN SELECT x FROM jsonb_array_elements(p_batch) x LOOP
        pid := (e->>'person_id')::uuid;
        -- Changed again since the claim: this is applied, the newer change
        -- stays queued and is matched again.
        DELETE FROM match_queue q WHERE q.person_id = pid AND q.seq <= (e->>'seq')::bigint;
        CONTINUE WHEN NOT FOUND;
        -- A record the matcher could not read (logged by the server) leaves
        -- the queue without a link rather than blocking it.
        CONTINUE WHEN coalesce((e->>'drop')::boolean, false);
        IF EXISTS (SELECT 1 FROM jsonb_to_recordset(coalesce(e->'expect', '[]')) AS x (p uuid, i uuid)
                     LEFT JOIN match_persons m ON m.person_id = x.p
                    WHERE m.identity_id IS DISTINCT FROM x.i) THEN
            RAISE EXCEPTION 'identities changed while matching' USING ERRCODE = '40001';
        END IF;
        fresh := NOT EXISTS (SELECT 1 FROM match_persons m WHERE m.person_id = pid);
        INSERT INTO match_persons AS m (person_id, case_id, owner_agency_id, role, identity_id,
                                        person_pb, linked_by, linked_score)
        VALUES (pid, (e->>'case_id')::uuid, (e->>'owner')::integer, e->>'role',
                (e->>'identity_id')::uuid, decode(e->>'pb', 'hex'), e->>'linked_by',
                (e->>'score')::real)
        ON CONFLICT (person_id) DO UPDATE
           SET role = EXCLUDED.role, person_pb = EXCLUDED.person_pb, matched_at = now();
        DELETE FROM match_keys k WHERE k.person_id = pid;
        INSERT INTO match_keys (key, person_id)
        SELECT DISTINCT k, pid FROM jsonb_array_elements_text(coalesce(e->'keys', '[]')) k;
        IF fresh THEN
            INSERT INTO match_name_freq AS f (kind, token, persons)
            SELECT DISTINCT split_part(t, ':', 1), substr(t, 3), 1
              FROM jsonb_array_elements_text(coalesce(e->'tokens', '[]')) t
             WHERE t ~ '^[gs]:.'
            ON CONFLICT (kind, token) DO UPDATE SET persons = f.persons + 1;
            UPDATE match_name_freq SET persons = persons + 1 WHERE kind = 'p';
        END IF;
        INSERT INTO match_candidates AS c (person_a, person_b, score, match_class, explanation, caps)
        SELECT least(pid, x.other), greatest(pid, x.other), x.score, x.class,
               coalesce(x.explanation, ''), coalesce(x.caps, 0)
          FROM jsonb_to_recordset(coalesce(e->'candidates', '[]'))
               AS x (other uuid, score real, class text, explanation text, caps integer)
         WHERE x.other <> pid AND EXISTS (SELECT 1 FROM match_persons m WHERE m.person_id = x.other)
        ON CONFLICT (person_a, person_b) DO UPDATE
           SET score = EXCLUDED.score, match_class = EXCLUDED.match_class,
               explanation = EXCLUDED.explanation, caps = EXCLUDED.caps
         WHERE c.status = 'PENDING';
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- The level of an agency on a case that shares a person with one of its
-- own records (related cases, the review queue): its level, or a HIT for
-- any agency but an auditor, except on an H3 case whose owner allows no hits.
CREATE FUNCTION ritra_related_level(p_case uuid, p_agency integer) RETURNS smallint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT CASE
             WHEN l.level >= 1 THEN l.level
             WHEN (SELECT kind FROM agencies WHERE agency_id = p_agency) = 'auditor' THEN 0
             WHEN c.handling_code = 'H3' AND NOT c.h3_allow_hits THEN 0
             ELSE 1
           END::smallint
      FROM cases c, LATERAL (SELECT ritra_case_level(p_case, p_agency) AS level) l
     WHERE c.case_id = p_case
$$;

-- The level for a case whose person matched the agency's search
-- (policy_search_level in server/policy.c): HIT for police and prosecutors
-- on cases they cannot see, except H3 cases without hits.
CREATE FUNCTION ritra_search_level(p_case uuid, p_agency integer) RETURNS smallint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT CASE
             WHEN l.level >= 1 THEN l.level
             WHEN (SELECT kind FROM agencies WHERE agency_id = p_agency)
                  NOT IN ('police', 'prosecutor') THEN 0
             WHEN c.handling_code = 'H3' AND NOT c.h3_allow_hits THEN 0
             ELSE 1
           END::smallint
      FROM cases c, LATERAL (SELECT ritra_case_level(p_case, p_agency) AS level) l
     WHERE c.case_id = p_case
$$;

CREATE FUNCTION ritra_agency_check() RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a integer := ritra_current_agency();
BEGIN
    IF a IS NULL THEN
        RAISE EXCEPTION 'no acting agency' USING ERRCODE = '42501';
    END IF;
    RETURN a;
END
$$;

-- A case's facts and the acting agency's level on it, the way every row the
-- agency functions return carries them: the server decides the level again
-- from the inputs and fails closed when the two decisions differ.
CREATE TYPE ritra_case_facts AS (
    case_id uuid, owner_agency_id integer, owner_code text, owner_name text, contact text,
    handling_code text, h3_allow_hits boolean, direct smallint, by_kind smallint,
    kind_default smallint, level smallint
);

CREATE FUNCTION ritra_case_facts(p_case uuid, p_agency integer, p_level smallint)
RETURNS ritra_case_facts
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT ROW(p_case, i.owner_agency_id, a.code, a.name, coalesce(a.contact, ''), i.handling_code,
               i.h3_allow_hits, i.direct, i.by_kind, i.kind_default, p_level)::ritra_case_facts
      FROM ritra_level_inputs(p_case, p_agency) i JOIN agencies a ON a.agency_id = i.owner_agency_id
$$;

-- SearchPersons: the records sharing a key with the query whose case the
-- agency may at least hit. person_pb is returned for scoring at every
-- level (that is what a hit is); the server shows a record's content only
-- at RESTRICTED and above, through the case's rendering rules.
CREATE FUNCTION ritra_search_candidates(p_keys text[], p_cap integer, p_roles text[])
RETURNS TABLE (person_id uuid, identity_id uuid, role text, person_ref text, person_pb bytea,
               facts ritra_case_facts)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    RETURN QUERY
    WITH cand AS (
        SELECT DISTINCT m.person_id, m.identity_id, m.role, m.case_id, m.person_pb
          FROM unnest(p_keys) AS k (key)
         CROSS JOIN LATERAL (SELECT array_agg(s.person_id) AS ids
                               FROM (SELECT mk.person_id FROM match_keys mk
                                      WHERE mk.key = k.key LIMIT p_cap + 1) s) b
          JOIN match_persons m ON m.person_id = ANY (b.ids)
         WHERE cardinality(b.ids) <= p_cap
           AND (cardinality(p_roles) = 0 OR m.role = ANY (p_roles))),
    lv AS (SELECT c.*, ritra_search_level(c.case_id, ag) AS level FROM cand c)
    SELECT lv.person_id, lv.identity_id, lv.role, p.person_ref, lv.person_pb,
           ritra_case_facts(lv.case_id, ag, lv.level)
      FROM lv JOIN persons p ON p.person_id = lv.person_id
     WHERE lv.level >= 1;
END
$$;

-- The records of identities the agency may know of, for search results and
-- related cases: level is the search level (p_related false) or the
-- related level (true). person_pb only from RESTRICTED up.
CREATE FUNCTION ritra_identity_records(p_identities uuid[], p_related boolean)
RETURNS TABLE (identity_id uuid, person_id uuid, role text, person_ref text, person_pb bytea,
               facts ritra_case_facts)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    RETURN QUERY
    WITH lv AS (
        SELECT m.*, CASE WHEN p_related THEN ritra_related_level(m.case_id, ag)
                         ELSE ritra_search_level(m.case_id, ag) END AS level
          FROM match_persons m WHERE m.identity_id = ANY (p_identities))
    SELECT lv.identity_id, lv.person_id,
           CASE WHEN lv.level >= 2 THEN lv.role END,
           CASE WHEN lv.level >= 2 THEN p.person_ref END,
           CASE WHEN lv.level >= 2 THEN lv.person_pb END,
           ritra_case_facts(lv.case_id, ag, lv.level)
      FROM lv JOIN persons p ON p.person_id = lv.person_id
     WHERE lv.level >= 1
     ORDER BY lv.identity_id, lv.case_id, lv.person_id;
END
$$;

-- The matcher's result for the persons of a case the agency may see at
-- RESTRICTED or above.
CREATE FUNCTION ritra_case_matches(p_case uuid)
RETURNS TABLE (person_id uuid, person_ref text, identity_id uuid, linked_by text,
               linked_score real, queued boolean, review_pending integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    IF coalesce(ritra_case_level(p_case, ag), 0) < 2 THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT p.person_id, p.person_ref, m.identity_id, m.linked_by, m.linked_score,
           EXISTS (SELECT 1 FROM match_queue q WHERE q.person_id = p.person_id),
           (SELECT count(*)::integer FROM match_candidates c
             WHERE c.status = 'PENDING' AND (c.person_a = p.person_id OR c.person_b = p.person_id))
      FROM persons p LEFT JOIN match_persons m ON m.person_id = p.person_id
     WHERE p.case_id = p_case
     ORDER BY p.person_ref;
END
$$;

-- The review queue of the acting agency: candidates with one side in its
-- own cases and the other side at a related level of HIT or more. Both
-- sides come with their facts; the other side's record only from
-- RESTRICTED up. Keyset order (created_at, candidate_id).
CREATE FUNCTION ritra_match_list(p_status text, p_case uuid, p_after_time timestamptz,
                                 p_after_id uuid, p_limit integer)
RETURNS TABLE (candidate_id uuid, status text, score real, match_class text, explanation text,
               caps integer, created_at timestamptz, decided_at timestamptz, decided_by text,
               decided_actor text, reason text,
               own_person uuid, own_identity uuid, own_role text, own_ref text, own_pb bytea,
               own_facts ritra_case_facts,
               other_person uuid, other_identity uuid, other_role text, other_ref text,
               other_pb bytea, other_facts ritra_case_facts)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    RETURN QUERY
    WITH sides AS (
        SELECT c.*,
               CASE WHEN pa.owner_agency_id = ag THEN c.person_a ELSE c.person_b END AS own_id,
               CASE WHEN pa.owner_agency_id = ag THEN c.person_b ELSE c.person_a END AS other_id
          FROM match_candidates c
          JOIN match_persons pa ON pa.person_id = c.person_a
          JOIN match_persons pb ON pb.person_id = c.person_b
         WHERE (pa.owner_agency_id = ag OR pb.owner_agency_id = ag)
           AND (p_status = 'ALL' OR c.status = p_status)
           AND (p_case IS NULL OR pa.case_id = p_case OR pb.case_id = p_case)
           AND (p_after_time IS NULL OR (c.created_at, c.candidate_id) > (p_after_time, p_after_id))),
    lv AS (
        SELECT s.*, mo.identity_id AS oi, mo.role AS orole, mo.person_pb AS opb, mo.case_id AS ocase,
               mx.identity_id AS xi, mx.role AS xrole, mx.person_pb AS xpb, mx.case_id AS xcase,
               ritra_related_level(mx.case_id, ag) AS xlevel
          FROM sides s
          JOIN match_persons mo ON mo.person_id = s.own_id
          JOIN match_persons mx ON mx.person_id = s.other_id)
    SELECT lv.candidate_id, lv.status, lv.score, lv.match_class, lv.explanation, lv.caps,
           lv.created_at, lv.decided_at, (SELECT a.code FROM agencies a WHERE a.agency_id = lv.decided_by),
           lv.decided_actor, lv.reason,
           lv.own_id, lv.oi, lv.orole, po.person_ref, lv.opb, ritra_case_facts(lv.ocase, ag, 3::smallint),
           lv.other_id, lv.xi,
           CASE WHEN lv.xlevel >= 2 THEN lv.xrole END,
           CASE WHEN lv.xlevel >= 2 THEN px.person_ref END,
           CASE WHEN lv.xlevel >= 2 THEN lv.xpb END,
           ritra_case_facts(lv.xcase, ag, lv.xlevel)
      FROM lv
      JOIN persons po ON po.person_id = lv.own_id
      JOIN persons px ON px.person_id = lv.other_id
     WHERE lv.xlevel >= 1
     ORDER BY lv.created_at, lv.candidate_id
     LIMIT p_limit;
END
$$;

-- The records of two identities that a rejection keeps apart.
CREATE FUNCTION ritra_identities_rejected(p_a uuid, p_b uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM match_candidates c
          JOIN match_persons x ON x.person_id = c.person_a
          JOIN match_persons y ON y.person_id = c.person_b
         WHERE c.status = 'REJECTED'
           AND ((x.identity_id = p_a AND y.identity_id = p_b)
                OR (x.identity_id = p_b AND y.identity_id = p_a)))
$$;

-- Moves every record of identity p_from into p_into.
CREATE FUNCTION ritra_identity_move(p_into uuid, p_from uuid, p_how text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE match_persons SET identity_id = p_into, linked_by = p_how, linked_score = NULL
     WHERE identity_id = p_from;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- CONFIRM or REJECT a candidate. Outcomes: done | not_found (no such
-- candidate the agency may decide) | wrong_state (already decided; or
-- rejecting records that are linked: unmerge instead) | conflict (a
-- rejected pair already keeps the two identities apart).
CREATE FUNCTION ritra_match_decide(p_candidate uuid, p_confirm boolean, p_reason text,
                                   p_actor text)
RETURNS TABLE (outcome text, identity_id uuid, status text, cases uuid[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
    c record;
    own record;
    other record;
BEGIN
    PERFORM pg_advisory_xact_lock(7419, 1);
    SELECT * INTO c FROM match_candidates mc WHERE mc.candidate_id = p_candidate FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, '{}'::uuid[];
        RETURN;
    END IF;
    SELECT * INTO own FROM match_persons m
     WHERE m.person_id IN (c.person_a, c.person_b) AND m.owner_agency_id = ag
     ORDER BY m.person_id LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, '{}'::uuid[];
        RETURN;
    END IF;
    SELECT * INTO other FROM match_persons m
     WHERE m.person_id IN (c.person_a, c.person_b) AND m.person_id <> own.person_id;
    IF ritra_related_level(other.case_id, ag) < 1 THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, '{}'::uuid[];
        RETURN;
    END IF;
    IF c.status <> 'PENDING' THEN
        RETURN QUERY SELECT 'wrong_state'::text, own.identity_id, c.status, ARRAY[own.case_id, other.case_id];
        RETURN;
    END IF;
    IF p_confirm THEN
        IF own.identity_id <> other.identity_id THEN
            IF ritra_identities_rejected(own.identity_id, other.identity_id) THEN
                RETURN QUERY SELECT 'conflict'::text, own.identity_id, c.status, ARRAY[own.case_id, other.case_id];
                RETURN;
            END IF;
            PERFORM ritra_identity_move(own.identity_id, other.identity_id, 'confirm');
        END IF;
    ELSIF own.identity_id = other.identity_id THEN
        RETURN QUERY SELECT 'wrong_state'::text, own.identity_id, c.status, ARRAY[own.case_id, other.case_id];
        RETURN;
    END IF;
    UPDATE match_candidates mc
       SET status = CASE WHEN p_confirm THEN 'CONFIRMED' ELSE 'REJECTED' END,
           decided_at = now(), decided_by = ag, decided_actor = p_actor, reason = p_reason
     WHERE mc.candidate_id = p_candidate;
    INSERT INTO identity_events (agency_id, actor, action, identity_id, other_identity_id,
                                 candidate_id, reason)
    VALUES (ag, p_actor, CASE WHEN p_confirm THEN 'confirm' ELSE 'reject' END, own.identity_id,
            other.identity_id, p_candidate, p_reason);
    RETURN QUERY SELECT 'done'::text, own.identity_id,
                        CASE WHEN p_confirm THEN 'CONFIRMED' ELSE 'REJECTED' END,
                        ARRAY[own.case_id, other.case_id];
END
$$;

-- Merges identity p_other into p_keep. The agency must hold a record in one
-- of them and at least a related HIT on a record of the other. Outcomes:
-- done | not_found | same | conflict (a rejected pair spans them).
CREATE FUNCTION ritra_identity_merge(p_keep uuid, p_other uuid, p_reason text, p_actor text)
RETURNS TABLE (outcome text, moved integer, cases uuid[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
    n integer;
BEGIN
    PERFORM pg_advisory_xact_lock(7419, 1);
    IF p_keep = p_other THEN
        RETURN QUERY SELECT 'same'::text, 0, '{}'::uuid[];
        RETURN;
    END IF;
    IF NOT ((EXISTS (SELECT 1 FROM match_persons m WHERE m.identity_id = p_keep AND m.owner_agency_id = ag)
             AND EXISTS (SELECT 1 FROM match_persons m WHERE m.identity_id = p_other
                           AND ritra_related_level(m.case_id, ag) >= 1))
         OR (EXISTS (SELECT 1 FROM match_persons m WHERE m.identity_id = p_other AND m.owner_agency_id = ag)
             AND EXISTS (SELECT 1 FROM match_persons m WHERE m.identity_id = p_keep
                           AND ritra_related_level(m.case_id, ag) >= 1))) THEN
        RETURN QUERY SELECT 'not_found'::text, 0, '{}'::uuid[];
        RETURN;
    END IF;
    IF ritra_identities_rejected(p_keep, p_other) THEN
        RETURN QUERY SELECT 'conflict'::text, 0, '{}'::uuid[];
        RETURN;
    END IF;
    n := ritra_identity_move(p_keep, p_other, 'merge');
    INSERT INTO identity_events (agency_id, actor, action, identity_id, other_identity_id,
                                 records, reason)
    VALUES (ag, p_actor, 'merge', p_keep, p_other, n, p_reason);
    RETURN QUERY SELECT 'done'::text, n,
        (SELECT array_agg(DISTINCT m.case_id) FROM match_persons m WHERE m.identity_id = p_keep);
END
$$;

-- Takes one of the agency's records out of its identity into a new one of
-- its own, and remembers that it is not the others (rejected pairs), so the
-- matcher does not link it back. Outcomes: done | not_found | wrong_state
-- (the record is alone in its identity).
CREATE FUNCTION ritra_identity_unmerge(p_person uuid, p_reason text, p_actor text)
RETURNS TABLE (outcome text, identity_id uuid, previous_identity_id uuid, cases uuid[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
    me record;
    fresh uuid := gen_random_uuid();
BEGIN
    PERFORM pg_advisory_xact_lock(7419, 1);
    SELECT * INTO me FROM match_persons m WHERE m.person_id = p_person AND m.owner_agency_id = ag
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::uuid, '{}'::uuid[];
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM match_persons m
                    WHERE m.identity_id = me.identity_id AND m.person_id <> p_person) THEN
        RETURN QUERY SELECT 'wrong_state'::text, me.identity_id, me.identity_id, ARRAY[me.case_id];
        RETURN;
    END IF;
    INSERT INTO match_candidates AS c (person_a, person_b, score, match_class, status, decided_at,
                                       decided_by, decided_actor, reason)
    SELECT least(p_person, m.person_id), greatest(p_person, m.person_id), 0, 'NO_MATCH',
           'REJECTED', now(), ag, p_actor, p_reason
      FROM match_persons m WHERE m.identity_id = me.identity_id AND m.person_id <> p_person
    ON CONFLICT (person_a, person_b) DO UPDATE
       SET status = 'REJECTED', decided_at = now(), decided_by = ag, decided_actor = p_actor,
           reason = p_reason;
    UPDATE match_persons m SET identity_id = fresh, linked_by = 'unmerge', linked_score = NULL
     WHERE m.person_id = p_person;
    INSERT INTO identity_events (agency_id, actor, action, identity_id, other_identity_id,
                                 person_id, reason)
    VALUES (ag, p_actor, 'unmerge', fresh, me.identity_id, p_person, p_reason);
    RETURN QUERY SELECT 'done'::text, fresh, me.identity_id, ARRAY[me.case_id];
END
$$;

-- The cases of other agencies that share an identity with a person of
-- p_case, at the agency's related level (the agency must see p_case at
-- RESTRICTED or above).
CREATE FUNCTION ritra_related_cases(p_case uuid)
RETURNS TABLE (person_ref text, identity_id uuid, case_id uuid, external_ref text, version bigint,
               status text, updated_at timestamptz, person_count integer,
               facts ritra_case_facts)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ag integer := ritra_agency_check();
BEGIN
    IF coalesce(ritra_case_level(p_case, ag), 0) < 2 THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH mine AS (
        SELECT p.person_ref, m.identity_id FROM persons p
          JOIN match_persons m ON m.person_id = p.person_id WHERE p.case_id = p_case),
    rel AS (
        SELECT DISTINCT ON (mine.identity_id, o.case_id) mine.person_ref, mine.identity_id, o.case_id
          FROM mine JOIN match_persons o ON o.identity_id = mine.identity_id
         WHERE o.case_id <> p_case
         ORDER BY mine.identity_id, o.case_id, mine.person_ref),
    lv AS (SELECT rel.*, ritra_related_level(rel.case_id, ag) AS level FROM rel)
    SELECT lv.person_ref, lv.identity_id, lv.case_id,
           CASE WHEN lv.level >= 2 THEN c.external_ref END,
           CASE WHEN lv.level >= 2 THEN c.version END,
           CASE WHEN lv.level >= 2 THEN c.status END,
           CASE WHEN lv.level >= 2 THEN c.updated_at END,
           CASE WHEN lv.level >= 2 THEN c.person_count END,
           ritra_case_facts(lv.case_id, ag, lv.level)
      FROM lv JOIN cases c ON c.case_id = lv.case_id
     WHERE lv.level >= 1
     ORDER BY lv.person_ref, lv.case_id;
END
$$;

-- SearchCases' event filters. case_events rows are the owner's only (row
-- level security); this looks at them for a case the acting agency sees at
-- RESTRICTED or above, where the event's place and date are content it has.
CREATE FUNCTION ritra_case_events_match(p_case uuid, p_country text, p_city text, p_from date,
                                        p_to date) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(ritra_case_level(p_case, ritra_current_agency()), 0) >= 2
       AND EXISTS (SELECT 1 FROM case_events e
                    WHERE e.case_id = p_case
                      AND (p_country IS NULL OR e.country = p_country)
                      AND (p_city IS NULL OR lower(e.city) = lower(p_city))
                      AND (p_from IS NULL OR e.date_to >= p_from)
                      AND (p_to IS NULL OR e.date_from <= p_to))
$$;

REVOKE ALL ON FUNCTION ritra_case_events_match(uuid, text, text, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ritra_case_events_match(uuid, text, text, date, date) TO ritra_app;

REVOKE ALL ON FUNCTION ritra_match_enqueue(), ritra_match_begin(), ritra_match_check(),
    ritra_match_claim(integer), ritra_match_candidates(integer[], text[], integer),
    ritra_match_rejected(uuid[]), ritra_match_name_freq(), ritra_match_apply(jsonb),
    ritra_related_level(uuid, integer), ritra_search_level(uuid, integer), ritra_agency_check(),
    ritra_case_facts(uuid, integer, smallint), ritra_search_candidates(text[], integer, text[]),
    ritra_identity_records(uuid[], boolean), ritra_case_matches(uuid),
    ritra_match_list(text, uuid, timestamptz, uuid, integer), ritra_identities_rejected(uuid, uuid),
    ritra_identity_move(uuid, uuid, text), ritra_match_decide(uuid, boolean, text, text),
    ritra_identity_merge(uuid, uuid, text, text), ritra_identity_unmerge(uuid, text, text),
    ritra_related_cases(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ritra_match_begin(), ritra_match_check(), ritra_match_claim(integer),
    ritra_match_candidates(integer[], text[], integer), ritra_match_rejected(uuid[]),
    ritra_match_name_freq(), ritra_match_apply(jsonb), ritra_agency_check(),
    ritra_search_candidates(text[], integer, text[]), ritra_identity_records(uuid[], boolean),
    ritra_case_matches(uuid), ritra_match_list(text, uuid, timestamptz, uuid, integer),
    ritra_match_decide(uuid, boolean, text, text), ritra_identity_merge(uuid, uuid, text, text),
    ritra_identity_unmerge(uuid, text, text), ritra_related_cases(uuid) TO ritra_app;
