-- Cahier de liaison, absences, the background jobs queue and notification delivery
-- (e-mail, web push, SMS) with preferences, quiet hours and the SMS budget.

-- The interface language a person chose (content keeps its own language).
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'fr';

-- When a school's families get what was held overnight or over the weekend (Paris time),
-- spread over that many minutes so a tenant's schools do not all send at once.
ALTER TABLE structures ADD COLUMN release_at TEXT NOT NULL DEFAULT '07:30';
ALTER TABLE structures ADD COLUMN release_spread_minutes BIGINT NOT NULL DEFAULT 20;

-- SMS a tenant may send per calendar month (0: none).
ALTER TABLE tenants ADD COLUMN sms_monthly_budget BIGINT NOT NULL DEFAULT 0;

-- The event a notification belongs to (one post notifies many people), whether it may
-- break quiet hours, and whose school's release time applies.
ALTER TABLE notifications ADD COLUMN batch_id UUID;
ALTER TABLE notifications ADD COLUMN urgent BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE notifications ADD COLUMN structure_id UUID REFERENCES structures(id) ON DELETE SET NULL;
CREATE INDEX notifications_batch ON notifications(batch_id) WHERE batch_id IS NOT NULL;

CREATE TABLE liaison_mots (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    structure_id UUID NOT NULL REFERENCES structures(id),
    author_id UUID REFERENCES users(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    -- The language the mot is written in (BCP 47), for lang= and read-aloud voices.
    language TEXT NOT NULL,
    -- school, classes or pupils: how the recipients were chosen.
    audience TEXT NOT NULL,
    signature_required BOOLEAN NOT NULL,
    replies_allowed BOOLEAN NOT NULL,
    urgent BOOLEAN NOT NULL,
    publish_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    edited_at TIMESTAMPTZ,
    reminded_at TIMESTAMPTZ
);
CREATE INDEX liaison_mots_structure ON liaison_mots(structure_id, publish_at);
CREATE INDEX liaison_mots_author ON liaison_mots(author_id, publish_at);

CREATE TABLE liaison_mot_classes (
    mot_id UUID NOT NULL REFERENCES liaison_mots(id) ON DELETE CASCADE,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    class_id UUID NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    PRIMARY KEY (mot_id, class_id)
);
CREATE INDEX liaison_mot_classes_class ON liaison_mot_classes(class_id, mot_id);

-- The pupils a mot was addressed to, fixed when it is posted.
CREATE TABLE liaison_recipients (
    mot_id UUID NOT NULL REFERENCES liaison_mots(id) ON DELETE CASCADE,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    pupil_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    class_id UUID REFERENCES classes(id) ON DELETE SET NULL,
    PRIMARY KEY (mot_id, pupil_id)
);
CREATE INDEX liaison_recipients_pupil ON liaison_recipients(pupil_id, mot_id);

-- "Vu" by one guardian for one child.
CREATE TABLE liaison_acks (
    mot_id UUID NOT NULL REFERENCES liaison_mots(id) ON DELETE CASCADE,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    pupil_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    guardian_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (mot_id, pupil_id, guardian_id)
);

-- A private exchange between one guardian and the school about one mot.
CREATE TABLE liaison_replies (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    mot_id UUID NOT NULL REFERENCES liaison_mots(id) ON DELETE CASCADE,
    pupil_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    guardian_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    author_id UUID REFERENCES users(id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX liaison_replies_mot ON liaison_replies(mot_id, guardian_id, created_at);

-- Earlier versions of an edited mot, shown as its history.
CREATE TABLE liaison_revisions (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    mot_id UUID NOT NULL REFERENCES liaison_mots(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    edited_by UUID REFERENCES users(id) ON DELETE SET NULL,
    replaced_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX liaison_revisions_mot ON liaison_revisions(mot_id, replaced_at);

CREATE TABLE liaison_attachments (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    mot_id UUID NOT NULL REFERENCES liaison_mots(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL
);
CREATE INDEX liaison_attachments_mot ON liaison_attachments(mot_id);

-- One half-day's absence or lateness of one pupil.
CREATE TABLE absences (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    structure_id UUID NOT NULL REFERENCES structures(id),
    class_id UUID NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    pupil_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    half TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- The notice the family gave, when there was one.
    notice_id UUID,
    recorded_by UUID REFERENCES users(id) ON DELETE SET NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX absences_once ON absences(pupil_id, day, half);
CREATE INDEX absences_structure_day ON absences(structure_id, day);
CREATE INDEX absences_class_day ON absences(class_id, day);

-- An absence a guardian announced in advance, from one half-day to another.
CREATE TABLE absence_notices (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    structure_id UUID NOT NULL REFERENCES structures(id),
    pupil_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    guardian_id UUID REFERENCES users(id) ON DELETE SET NULL,
    from_day TEXT NOT NULL,
    from_half TEXT NOT NULL,
    to_day TEXT NOT NULL,
    to_half TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX absence_notices_pupil ON absence_notices(pupil_id, to_day);
CREATE INDEX absence_notices_structure ON absence_notices(structure_id, to_day);

-- Background work, enqueued in the transaction that causes it.
CREATE TABLE jobs (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID REFERENCES tenants(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    locked_until TIMESTAMPTZ,
    last_error TEXT,
    failed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_due ON jobs(run_at) WHERE failed_at IS NULL;

-- How a person wants to be told; no row means the defaults (daily e-mail digest, push and
-- SMS on when set up).
CREATE TABLE notification_settings (
    user_id UUID PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    email_mode TEXT NOT NULL,
    sms BOOLEAN NOT NULL,
    last_digest_at TIMESTAMPTZ
);

-- Kinds of notification a person turned off for one channel.
CREATE TABLE notification_muted (
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, channel)
);

CREATE TABLE push_subscriptions (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX push_subscriptions_endpoint ON push_subscriptions(endpoint);
CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);

-- Every SMS sent, counted against the tenant's monthly budget.
CREATE TABLE sms_sent (
    id UUID PRIMARY KEY NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    notification_id UUID,
    sent_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sms_sent_tenant ON sms_sent(tenant_id, sent_at);

-- Platform-wide values generated once (the VAPID key pair).
CREATE TABLE platform_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
