-- Per-clinic access settings: the permission table (JSON of app::access::PermissionTable) and
-- the break-glass rules. A clinic without a row uses the defaults built into the application.
CREATE TABLE clinic_access_settings (
    clinic_id uuid PRIMARY KEY REFERENCES clinics (id),
    permissions jsonb NOT NULL CHECK (jsonb_typeof(permissions) = 'object'),
    -- Whether a critical break-glass request of a clinician of the same clinic is granted at once.
    auto_grant_critical boolean NOT NULL DEFAULT true,
    emergency_grant_minutes integer NOT NULL DEFAULT 240
        CHECK (emergency_grant_minutes BETWEEN 1 AND 1440),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid REFERENCES users (id)
);

-- Break-glass requests and the grants they become. A request is pending until a compliance
-- officer or admin decides it, or granted at once when the clinic allows it for its level.
CREATE TABLE emergency_access (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    requester_user_id uuid NOT NULL REFERENCES users (id),
    level text NOT NULL CHECK (level IN ('critical', 'urgent')),
    justification text NOT NULL CHECK (length(btrim(justification)) BETWEEN 10 AND 2000),
    status text NOT NULL CHECK (status IN ('pending', 'granted', 'denied')),
    requested_at timestamptz NOT NULL,
    -- NULL decider with status 'granted' means the clinic's rule granted it at once.
    decided_by uuid REFERENCES users (id),
    decided_at timestamptz,
    decision_reason text CHECK (length(decision_reason) <= 2000),
    granted_at timestamptz,
    expires_at timestamptz,
    reviewed_by uuid REFERENCES users (id),
    reviewed_at timestamptz,
    review_note text CHECK (length(review_note) <= 2000),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    CHECK ((status = 'granted') = (granted_at IS NOT NULL AND expires_at IS NOT NULL)),
    CHECK (expires_at IS NULL OR expires_at > granted_at),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK ((reviewed_at IS NULL) = (reviewed_by IS NULL)),
    CHECK (reviewed_at IS NULL OR status = 'granted')
);

CREATE INDEX emergency_access_patient ON emergency_access (clinic_id, patient_id, requester_user_id);
CREATE INDEX emergency_access_queue ON emergency_access (clinic_id, status, reviewed_at);

-- Notifications for a clinic's compliance officers, shown on their page.
CREATE TABLE compliance_notifications (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    emergency_access_id uuid NOT NULL REFERENCES emergency_access (id),
    kind text NOT NULL CHECK (kind IN ('emergency_requested', 'emergency_granted')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX compliance_notifications_clinic ON compliance_notifications (clinic_id, created_at DESC);

-- Reading entries and observations by id finds their owner in any clinic, so that an attempt
-- on another clinic's row is denied and audited like any other.
CREATE INDEX clinical_entries_id ON clinical_entries (id);
CREATE INDEX observations_id ON observations (id);
