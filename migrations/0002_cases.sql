-- Cases, the persons in them, their events, version history, and the sync
-- feed. docs/storage.md explains the design; the short version:
--
-- * cases.record holds the case exactly as accepted (a packed ritra.Case
--   without the server-set fields); every column anything queries on is a
--   real column or a row in persons / person_documents / case_events.
-- * A submission is one call of ritra_submit_case(), one transaction.
-- * sync_feed has one row per (agency, case) the agency must hear about;
--   each write moves the row to the writing transaction's xid. Readers only
--   take rows whose xid is below the oldest transaction still running, so a
--   transaction that commits late can never land behind a cursor.

CREATE TABLE cases (
    case_id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_agency_id      integer NOT NULL REFERENCES agencies (agency_id),
    external_ref         text NOT NULL CHECK (length(external_ref) BETWEEN 1 AND 128),
    version              bigint NOT NULL CHECK (version >= 1),
    status               text NOT NULL CHECK (status IN
                             ('Active', 'FollowUp', 'Closed', 'ClosedReferred', 'Withdrawn')),
    handling_code        text NOT NULL CHECK (handling_code IN ('H0', 'H1', 'H2', 'H3')),
    source_reliability   text NOT NULL CHECK (source_reliability IN ('A', 'B', 'C', 'X')),
    information_accuracy text NOT NULL CHECK (information_accuracy IN ('1', '2', '3', '4')),
    exploitation_types   text[] NOT NULL DEFAULT '{}',
    person_count         integer NOT NULL CHECK (person_count BETWEEN 1 AND 200),
    content_sha256       bytea NOT NULL CHECK (length(content_sha256) = 32),
    record               bytea NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    created_by           text NOT NULL,
    updated_by           text NOT NULL,
    UNIQUE (owner_agency_id, external_ref)
);

CREATE INDEX cases_owner_updated_idx ON cases (owner_agency_id, updated_at, case_id);
CREATE INDEX cases_exploitation_idx ON cases USING gin (exploitation_types);

-- Every accepted version, append-only: nothing acknowledged is ever lost,
-- even when a later submission replaces it.
CREATE TABLE case_versions (
    case_id        uuid NOT NULL REFERENCES cases (case_id),
    version        bigint NOT NULL,
    status         text NOT NULL,
    content_sha256 bytea NOT NULL,
    record         bytea NOT NULL,
    submitted_at   timestamptz NOT NULL DEFAULT now(),
    submitted_by   text NOT NULL,
    agency_id      integer NOT NULL REFERENCES agencies (agency_id),
    PRIMARY KEY (case_id, version)
);

CREATE TABLE persons (
    person_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id         uuid NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
    person_ref      text NOT NULL CHECK (length(person_ref) BETWEEN 1 AND 64),
    role            text NOT NULL CHECK (role IN ('Victim', 'Suspect', 'Witness', 'Other')),
    given_names     text,
    middle_name     text,
    first_surname   text,
    second_surname  text,
    aliases         text[] NOT NULL DEFAULT '{}',
    sex             text,
    gender          text,
    birth_date      text CHECK (birth_date ~ '^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$'),
    birth_year      smallint GENERATED ALWAYS AS (substr(birth_date, 1, 4)::smallint) STORED,
    citizenships    text[] NOT NULL DEFAULT '{}',
    phones          text[] NOT NULL DEFAULT '{}',
    trafficking_status text,
    consent_given   boolean NOT NULL DEFAULT false,
    consent_scope   text[] NOT NULL DEFAULT '{}',
    consent_date    date,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, person_ref)
);

CREATE TABLE person_documents (
    person_id       uuid NOT NULL REFERENCES persons (person_id) ON DELETE CASCADE,
    doc_type        text NOT NULL,
    number          text NOT NULL,
    number_norm     text NOT NULL CHECK (number_norm ~ '^[A-Z0-9]{1,64}$'),
    issuing_country text NOT NULL CHECK (issuing_country ~ '^[A-Z]{2}$'),
    PRIMARY KEY (person_id, doc_type, issuing_country, number_norm)
);

CREATE INDEX person_documents_number_idx ON person_documents (number_norm);

CREATE TABLE case_events (
    case_id     uuid NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
    ordinal     integer NOT NULL,
    event_type  text NOT NULL CHECK (event_type IN ('Recruitment', 'Transit', 'Exploitation')),
    event_date  text,
    date_from   date, -- the earliest day a partial date can denote
    date_to     date, -- the latest
    country     text CHECK (country ~ '^[A-Z]{2}$'),
    state       text,
    city        text,
    PRIMARY KEY (case_id, ordinal)
);

CREATE INDEX case_events_place_idx ON case_events (country, event_type);
CREATE INDEX case_events_date_idx ON case_events (date_from, date_to);

CREATE SEQUENCE sync_feed_seq;

CREATE TABLE sync_feed (
    agency_id integer NOT NULL REFERENCES agencies (agency_id),
    case_id   uuid NOT NULL REFERENCES cases (case_id),
    xid       xid8 NOT NULL,
    seq       bigint NOT NULL,
    PRIMARY KEY (agency_id, case_id)
);

CREATE INDEX sync_feed_position_idx ON sync_feed (agency_id, xid, seq);

-- Tells the agency's sync feed that case p_case changed in this transaction.
CREATE FUNCTION ritra_feed_touch(p_agency integer, p_case uuid) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO sync_feed (agency_id, case_id, xid, seq)
    VALUES (p_agency, p_case, pg_current_xact_id(), nextval('sync_feed_seq'))
    ON CONFLICT (agency_id, case_id)
    DO UPDATE SET xid = EXCLUDED.xid, seq = EXCLUDED.seq;
$$;

-- Replaces the projection rows (persons by person_ref, their documents,
-- events) of a case from the JSON the server derived from the record.
CREATE FUNCTION ritra_project_case(p_case uuid, p_persons jsonb, p_events jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM persons p
     WHERE p.case_id = p_case
       AND p.person_ref <> ALL (ARRAY(SELECT x->>'person_ref' FROM jsonb_array_elements(p_persons) x));
    -- Upsert keeps person_id stable for a person_ref, so links made to it
    -- (deduplication) survive an update of the case.
    INSERT INTO persons AS p (case_id, person_ref, role, given_names, middle_name, first_surname,
                              second_surname, aliases, sex, gender, birth_date, citizenships, phones,
                              trafficking_status, consent_given, consent_scope, consent_date)
    SELECT p_case, x.person_ref, x.role, x.given_names, x.middle_name, x.first_surname,
           x.second_surname, coalesce(x.aliases, '{}'), x.sex, x.gender, x.birth_date,
           coalesce(x.citizenships, '{}'), coalesce(x.phones, '{}'), x.trafficking_status,
           coalesce(x.consent_given, false), coalesce(x.consent_scope, '{}'), x.consent_date
      FROM jsonb_to_recordset(p_persons) AS x(person_ref text, role text, given_names text,
               middle_name text, first_surname text, second_surname text, aliases text[],
               sex text, gender text, birth_date text, citizenships text[], phones text[],
               trafficking_status text, consent_given boolean, consent_scope text[],
               consent_date date)
    ON CONFLICT (case_id, person_ref) DO UPDATE
       SET role = EXCLUDED.role, given_names = EXCLUDED.given_names,
           middle_name = EXCLUDED.middle_name, first_surname = EXCLUDED.first_surname,
           second_surname = EXCLUDED.second_surname, aliases = EXCLUDED.aliases,
           sex = EXCLUDED.sex, gender = EXCLUDED.gender, birth_date = EXCLUDED.birth_date,
           citizenships = EXCLUDED.citizenships, phones = EXCLUDED.phones,
           trafficking_status = EXCLUDED.trafficking_status,
           consent_given = EXCLUDED.consent_given, consent_scope = EXCLUDED.consent_scope,
           consent_date = EXCLUDED.consent_date, updated_at = now();

    DELETE FROM person_documents d USING persons p
     WHERE d.person_id = p.person_id AND p.case_id = p_case;
    INSERT INTO person_documents (person_id, doc_type, number, number_norm, issuing_country)
    SELECT DISTINCT ON (p.person_id, d.type, d.issuing_country, d.number_norm)
           p.person_id, d.type, d.number, d.number_norm, d.issuing_country
      FROM jsonb_to_recordset(p_persons) AS x(person_ref text, documents jsonb)
      JOIN persons p ON p.case_id = p_case AND p.person_ref = x.person_ref
     CROSS JOIN jsonb_to_recordset(coalesce(x.documents, '[]')) AS d(type text, number text,
               number_norm text, issuing_country text);

    DELETE FROM case_events WHERE case_id = p_case;
    INSERT INTO case_events (case_id, ordinal, event_type, event_date, date_from, date_to, country,
                             state, city)
    SELECT p_case, e.ordinal, e.type, e.date, e.date_from, e.date_to, e.country, e.state, e.city
      FROM jsonb_to_recordset(p_events) AS e(ordinal integer, type text, date text, date_from date,
               date_to date, country text, state text, city text);
END
$$;

-- Accepts one submission from the owner agency. Returns what happened:
--   created   | updated : written, version is the new version
--   unchanged : identical content; nothing written, version is current
--   conflict  : expected_version did not match; version is the current one
--               (0 when the case does not exist)
CREATE FUNCTION ritra_submit_case(
    p_agency integer, p_actor text, p_external_ref text, p_expected bigint,
    p_sha bytea, p_record bytea, p_status text, p_handling text, p_reliability text,
    p_accuracy text, p_exploitation text[], p_person_count integer,
    p_persons jsonb, p_events jsonb,
    OUT outcome text, OUT case_id uuid, OUT version bigint)
LANGUAGE plpgsql AS $$
DECLARE
    cur record;
BEGIN
    LOOP
        SELECT c.case_id, c.version, c.content_sha256, c.status INTO cur
          FROM cases c
         WHERE c.owner_agency_id = p_agency AND c.external_ref = p_external_ref
           FOR UPDATE;
        EXIT WHEN FOUND;
        IF p_expected <> 0 THEN
            outcome := 'conflict';
            version := 0;
            RETURN;
        END IF;
        -- Two first submissions of one external_ref may race: the loser
        -- finds the winner's row on the next turn and updates it.
        INSERT INTO cases AS c (owner_agency_id, external_ref, version, status, handling_code,
                                source_reliability, information_accuracy, exploitation_types,
                                person_count, content_sha256, record, created_by, updated_by)
        VALUES (p_agency, p_external_ref, 1, p_status, p_handling, p_reliability, p_accuracy,
                p_exploitation, p_person_count, p_sha, p_record, p_actor, p_actor)
        ON CONFLICT ON CONSTRAINT cases_owner_agency_id_external_ref_key DO NOTHING
        RETURNING c.case_id INTO case_id;
        IF case_id IS NOT NULL THEN
            outcome := 'created';
            version := 1;
            PERFORM ritra_project_case(case_id, p_persons, p_events);
            INSERT INTO case_versions (case_id, version, status, content_sha256, record,
                                       submitted_by, agency_id)
            VALUES (case_id, 1, p_status, p_sha, p_record, p_actor, p_agency);
            PERFORM ritra_feed_touch(p_agency, case_id);
            RETURN;
        END IF;
    END LOOP;

    case_id := cur.case_id;
    IF p_expected <> 0 AND p_expected <> cur.version THEN
        outcome := 'conflict';
        version := cur.version;
        RETURN;
    END IF;
    IF cur.content_sha256 = p_sha THEN
        outcome := 'unchanged';
        version := cur.version;
        RETURN;
    END IF;
    version := cur.version + 1;
    UPDATE cases c
       SET version = cur.version + 1, status = p_status, handling_code = p_handling,
           source_reliability = p_reliability, information_accuracy = p_accuracy,
           exploitation_types = p_exploitation, person_count = p_person_count,
           content_sha256 = p_sha, record = p_record, updated_at = now(), updated_by = p_actor
     WHERE c.case_id = cur.case_id;
    PERFORM ritra_project_case(cur.case_id, p_persons, p_events);
    INSERT INTO case_versions (case_id, version, status, content_sha256, record, submitted_by,
                               agency_id)
    VALUES (cur.case_id, cur.version + 1, p_status, p_sha, p_record, p_actor, p_agency);
    PERFORM ritra_feed_touch(p_agency, cur.case_id);
    outcome := 'updated';
END
$$;

GRANT SELECT, INSERT, UPDATE ON cases TO ritra_app;
GRANT SELECT, INSERT ON case_versions TO ritra_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON persons, person_documents, case_events TO ritra_app;
GRANT SELECT, INSERT, UPDATE ON sync_feed TO ritra_app;
GRANT USAGE ON SEQUENCE sync_feed_seq TO ritra_app;
GRANT EXECUTE ON FUNCTION ritra_feed_touch(integer, uuid),
                          ritra_project_case(uuid, jsonb, jsonb),
                          ritra_submit_case(integer, text, text, bigint, bytea, bytea, text, text,
                                            text, text, text[], integer, jsonb, jsonb)
    TO ritra_app;
