-- Care events: short notices that something new happened on a patient's record, routed to the
-- people it concerns. They name the patient and the kind of change, never clinical content, so
-- a dashboard refetches the details through the access policy. Each event is announced on the
-- `nurture_care_events` channel when its transaction commits, which reaches every app node
-- listening on this database.
CREATE TABLE care_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN (
        'vitals', 'screening', 'feeding', 'growth', 'message', 'alert', 'task'
    )),
    -- 0 routine, 1 needs attention, 2 urgent.
    priority smallint NOT NULL CHECK (priority BETWEEN 0 AND 2),
    recipients uuid[] NOT NULL CHECK (cardinality(recipients) BETWEEN 1 AND 200),
    -- The observation, message, alert or task the event is about.
    subject_id uuid,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX care_events_recipients_idx ON care_events USING gin (recipients);
CREATE INDEX care_events_created_at_idx ON care_events (created_at);

CREATE FUNCTION care_events_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nurture_care_events', NEW.id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER care_events_announce
    AFTER INSERT ON care_events
    FOR EACH ROW EXECUTE FUNCTION care_events_announce();
