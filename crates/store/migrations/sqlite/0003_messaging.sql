-- Communication rules, the reach they open between groups, messagerie, moderation,
-- the sending kill switch and in-app notifications.

-- Set once a structure's rules were written (defaults or an administrator's): a structure
-- without them gets the defaults at the next recompute.
ALTER TABLE structures ADD COLUMN rules_set BOOLEAN NOT NULL DEFAULT FALSE;

-- The few accounts nobody may write to: reach lookups exclude them through this small index
-- instead of reading every reachable person's row.
CREATE INDEX users_unreachable ON users(id) WHERE detached_at IS NOT NULL OR state = 'disabled';

CREATE TABLE communication_rules (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    structure_id BLOB NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    -- A rule of one class only (a teacher letting pupils write to their classmates).
    class_id BLOB REFERENCES classes(id) ON DELETE CASCADE,
    from_audience TEXT NOT NULL,
    to_audience TEXT NOT NULL,
    mode TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX communication_rules_structure ON communication_rules(structure_id, from_audience, to_audience) WHERE class_id IS NULL;
CREATE UNIQUE INDEX communication_rules_class ON communication_rules(class_id, from_audience, to_audience) WHERE class_id IS NOT NULL;

-- The rules materialised onto groups: members of from_group may write to members of to_group.
CREATE TABLE group_reach (
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    structure_id BLOB NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    from_group_id BLOB NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    to_group_id BLOB NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    broadcast BOOLEAN NOT NULL,
    PRIMARY KEY (from_group_id, to_group_id, structure_id)
);
CREATE INDEX group_reach_structure ON group_reach(structure_id);
CREATE INDEX group_reach_to ON group_reach(to_group_id);

-- Kill switch: holders of `profile` (in the structure, or anywhere in the tenant) may not send.
CREATE TABLE messaging_blocks (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    structure_id BLOB REFERENCES structures(id) ON DELETE CASCADE,
    profile TEXT NOT NULL,
    created_by BLOB REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX messaging_blocks_tenant ON messaging_blocks(tenant_id);

CREATE TABLE messages (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    thread_id BLOB NOT NULL,
    parent_id BLOB REFERENCES messages(id) ON DELETE SET NULL,
    sender_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- Recipients as the sender chose them (people and groups), kept for drafts and display.
    audience TEXT NOT NULL,
    audience_label TEXT NOT NULL,
    broadcast BOOLEAN NOT NULL,
    -- drafts, sent, trash, gone
    sender_folder TEXT NOT NULL,
    recipient_count INTEGER NOT NULL,
    sent_at TEXT,
    recalled_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX messages_sender ON messages(sender_id, sender_folder, created_at);
CREATE INDEX messages_sent ON messages(sender_id, sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX messages_thread ON messages(thread_id);

-- One row per delivered copy.
CREATE TABLE message_recipients (
    message_id BLOB NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- inbox, trash, gone
    folder TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    read_at TEXT,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_recipients_user ON message_recipients(user_id, folder, sent_at);
CREATE INDEX message_recipients_unread ON message_recipients(user_id) WHERE read_at IS NULL AND folder = 'inbox';

CREATE TABLE message_reports (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    message_id BLOB NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    reporter_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The school whose directeurs moderate (the sender's).
    structure_id BLOB REFERENCES structures(id) ON DELETE SET NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by BLOB REFERENCES users(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX message_reports_once ON message_reports(message_id, reporter_id);
CREATE INDEX message_reports_structure ON message_reports(structure_id, resolved_at);

CREATE TABLE notifications (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject_id BLOB,
    summary TEXT NOT NULL,
    link TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);
CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_subject ON notifications(subject_id, user_id);

-- Instant chat: small conversations among people who may reach each other.
-- Hours (Paris time, weekdays) outside which families' chat messages wait.
ALTER TABLE structures ADD COLUMN chat_opens TEXT NOT NULL DEFAULT '08:00';
ALTER TABLE structures ADD COLUMN chat_closes TEXT NOT NULL DEFAULT '18:00';

CREATE TABLE chat_conversations (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    created_by BLOB REFERENCES users(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    last_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE chat_members (
    conversation_id BLOB NOT NULL REFERENCES chat_conversations(id) ON DELETE CASCADE,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_read_at TEXT,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX chat_members_user ON chat_members(user_id);

CREATE TABLE chat_messages (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    conversation_id BLOB NOT NULL REFERENCES chat_conversations(id) ON DELETE CASCADE,
    sender_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    -- When the others see it: at once, or when the school's chat hours open.
    visible_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX chat_messages_conversation ON chat_messages(conversation_id, id);

-- Files attached to a message (or to a draft, moved to the message when it is sent). The
-- bytes live under the data directory, named by id.
CREATE TABLE message_attachments (
    id BLOB PRIMARY KEY NOT NULL,
    tenant_id BLOB NOT NULL REFERENCES tenants(id),
    message_id BLOB NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX message_attachments_message ON message_attachments(message_id);
