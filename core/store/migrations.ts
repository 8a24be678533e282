/**
 * Versioned schema. Append new migrations; never edit a released one.
 * `seq` (the rowid) is the log position the rules engine's cursor follows; `id` is the public ULID.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    ts TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    type TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    url TEXT,
    fields TEXT NOT NULL,
    tags TEXT NOT NULL,
    origin TEXT
  );
  CREATE INDEX events_source_id ON events(source, id);
  CREATE INDEX events_type_id ON events(type, id);
  CREATE INDEX events_received ON events(received_at);

  CREATE VIRTUAL TABLE events_fts USING fts5(title, body, content='events', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');
  CREATE TRIGGER events_ai AFTER INSERT ON events BEGIN
    INSERT INTO events_fts(rowid, title, body) VALUES (new.seq, new.title, new.body);
  END;
  CREATE TRIGGER events_ad AFTER DELETE ON events BEGIN
    INSERT INTO events_fts(events_fts, rowid, title, body) VALUES ('delete', old.seq, old.title, old.body);
  END;
  CREATE TRIGGER events_au AFTER UPDATE OF title, body ON events BEGIN
    INSERT INTO events_fts(events_fts, rowid, title, body) VALUES ('delete', old.seq, old.title, old.body);
    INSERT INTO events_fts(rowid, title, body) VALUES (new.seq, new.title, new.body);
  END;

  CREATE TABLE monitor_state (
    monitor_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (monitor_id, key)
  ) WITHOUT ROWID;

  CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    state TEXT
  ) WITHOUT ROWID;

  CREATE TABLE outbox (
    rule_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    action_index INTEGER NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT,
    PRIMARY KEY (rule_id, event_id, action_index)
  ) WITHOUT ROWID;
  CREATE INDEX outbox_pending ON outbox(status, next_attempt_at);

  CREATE TABLE flags (
    name TEXT PRIMARY KEY,
    set_at TEXT NOT NULL,
    expires_at TEXT,
    set_by TEXT
  ) WITHOUT ROWID;

  CREATE TABLE traces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id TEXT NOT NULL,
    at TEXT NOT NULL,
    event_ids TEXT NOT NULL,
    trace TEXT NOT NULL
  );
  CREATE INDEX traces_rule ON traces(rule_id, id);

  CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2: full-text indexing leaves the durable append path. Events are indexed in larger batches just after they are
  // stored (and before any search), tracked by the `fts` cursor; only indexed rows may be removed from the index.
  `
  DROP TRIGGER events_ai;
  DROP TRIGGER events_ad;
  DROP TRIGGER events_au;
  INSERT INTO cursors (name, seq) VALUES ('fts', (SELECT COALESCE(MAX(seq), 0) FROM events))
    ON CONFLICT(name) DO UPDATE SET seq = excluded.seq;
  CREATE TRIGGER events_ad AFTER DELETE ON events
    WHEN old.seq <= (SELECT seq FROM cursors WHERE name = 'fts') BEGIN
    INSERT INTO events_fts(events_fts, rowid, title, body) VALUES ('delete', old.seq, old.title, old.body);
  END;
  CREATE TRIGGER events_au AFTER UPDATE OF title, body ON events
    WHEN old.seq <= (SELECT seq FROM cursors WHERE name = 'fts') BEGIN
    INSERT INTO events_fts(events_fts, rowid, title, body) VALUES ('delete', old.seq, old.title, old.body);
    INSERT INTO events_fts(rowid, title, body) VALUES (new.seq, new.title, new.body);
  END;
  `,
  // 3: prefix indexes for 2- and 3-letter prefixes, so searching as you type a common word ("th", "the") reads
  // a short list newest-first instead of merging the lists of every word that starts that way.
  `
  DROP TABLE events_fts;
  CREATE VIRTUAL TABLE events_fts USING fts5(title, body, content='events', content_rowid='seq', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
  INSERT INTO events_fts(rowid, title, body)
    SELECT seq, title, body FROM events WHERE seq <= (SELECT seq FROM cursors WHERE name = 'fts');
  `,
  // 4: actions run in lanes, one per destination (a webhook host, an SMTP server, ...). Each row records its lane so
  // a lane reads its own due work through one index, oldest-due first; `next_attempt_at` of a new row is its
  // creation time, so a retry that comes due queues up behind what became due before it.
  `
  ALTER TABLE outbox ADD COLUMN lane TEXT NOT NULL DEFAULT '';
  CREATE INDEX outbox_lane ON outbox(lane, status, next_attempt_at, created_at);
  `,
  // 5: the notification center. `notices` are the notifications it made (one per event, summaries of what a hold
  // kept back, folds of a storm), `seq` is the cursor pages and the desktop shell catch up from; `notification_fates`
  // records what happened to every candidate (a rule's notify action for an event) so "why did / didn't this notify
  // me" answers about then, not now; `notification_deliveries` tracks each notice on each external channel.
  `
  CREATE TABLE notices (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    event_id TEXT,
    rule_ids TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    url TEXT,
    priority TEXT NOT NULL,
    sound INTEGER NOT NULL,
    category TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    parent_id TEXT,
    channels TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    flush_at INTEGER,
    read_at INTEGER,
    snoozed_until INTEGER,
    acked_at INTEGER,
    ui_pending INTEGER NOT NULL DEFAULT 0,
    desktop_pending INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX notices_event ON notices(event_id);
  CREATE INDEX notices_state ON notices(state, created_at);
  CREATE INDEX notices_parent ON notices(parent_id, seq);
  CREATE INDEX notices_ui_pending ON notices(ui_pending) WHERE ui_pending = 1;
  CREATE INDEX notices_desktop_pending ON notices(desktop_pending) WHERE desktop_pending = 1;

  CREATE TABLE notification_candidates (
    key TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE notification_fates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT,
    rule_id TEXT,
    notice_id TEXT,
    fate TEXT NOT NULL,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX notification_fates_event ON notification_fates(event_id);
  CREATE INDEX notification_fates_notice ON notification_fates(notice_id);

  CREATE TABLE notification_deliveries (
    notice_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    fallback_of TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (notice_id, channel)
  ) WITHOUT ROWID;
  CREATE INDEX notification_deliveries_pending ON notification_deliveries(status) WHERE status = 'pending';

  INSERT INTO notices (id, kind, state, event_id, rule_ids, title, body, url, priority, sound, category, created_at, read_at)
    SELECT id, 'single', 'shown', event_id, json_array(rule_id), json_extract(payload, '$.title'), COALESCE(json_extract(payload, '$.body'), ''),
      json_extract(payload, '$.url'), COALESCE(json_extract(payload, '$.priority'), 'normal'), 1, 'notifications',
      CAST(strftime('%s', at) AS INTEGER) * 1000, CAST(strftime('%s', at) AS INTEGER) * 1000
    FROM notifications ORDER BY at;
  DROP TABLE notifications;
  `,
  // 6: every distinct version of what a monitor watches (a web page's text, its screenshot). Contents live once in
  // `version_blobs` by hash (compressed text, PNG screenshots); `versions` is each monitor's history, newest last.
  `
  CREATE TABLE versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    monitor_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    screenshot_hash TEXT
  );
  CREATE INDEX versions_monitor ON versions(monitor_id, id);
  CREATE INDEX versions_hash ON versions(hash);
  CREATE INDEX versions_screenshot ON versions(screenshot_hash) WHERE screenshot_hash IS NOT NULL;
  CREATE TABLE version_blobs (
    hash TEXT PRIMARY KEY,
    data BLOB NOT NULL
  ) WITHOUT ROWID;
  `,
  // 7: the rules' temporal state saved incrementally (it was one JSON blob in `cursors`, rewritten whole per batch):
  // per rule its shape (keys, times, counters, the ids of the events it holds), and each held event's copy once, so
  // a batch writes the events it added and deletes those it let go.
  `
  CREATE TABLE rule_states (
    rule TEXT PRIMARY KEY,
    state TEXT NOT NULL
  );
  CREATE TABLE rule_state_events (
    rule TEXT NOT NULL,
    event TEXT NOT NULL,
    ref TEXT NOT NULL,
    PRIMARY KEY (rule, event)
  );
  `,
  // 8: count windows' entries as rows (rule, window key, held event, its time, its order): the shape in rule_states
  // kept every entry's time and id, ~40 bytes per held event rewritten whenever a window changed, so one event into a
  // window of 9,000 wrote ~370 KB. Shapes saved by 7 are upgraded on the next batch (rules/state-delta.ts).
  `
  CREATE TABLE rule_window_entries (
    rule TEXT NOT NULL,
    key TEXT NOT NULL,
    entry TEXT NOT NULL,
    ord INTEGER NOT NULL,
    time REAL NOT NULL,
    ref TEXT NOT NULL,
    PRIMARY KEY (rule, key, entry)
  );
  `,
  // 9: the outbox keyed by event first, and only rows still waiting to run indexed by due time and lane. Keyed by rule
  // first, the rows of a batch whose events fired many different rules went to as many places in the table, and each
  // finished action was moved between two places of two (status, …) indexes in the commit after it ended; with event
  // ids in time order a batch's rows are written side by side. Old finished rows are found for the sweep, and dead
  // letters for their list, by small indexes of their own; start-up's look for interrupted rows reads the table once.
  `
  CREATE TABLE outbox_by_event (
    event_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    action_index INTEGER NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT,
    lane TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (event_id, rule_id, action_index)
  ) WITHOUT ROWID;
  INSERT INTO outbox_by_event (event_id, rule_id, action_index, action, status, attempts, next_attempt_at, last_error, created_at, done_at, lane)
    SELECT event_id, rule_id, action_index, action, status, attempts, next_attempt_at, last_error, created_at, done_at, lane FROM outbox;
  DROP TABLE outbox;
  ALTER TABLE outbox_by_event RENAME TO outbox;
  CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'pending';
  CREATE INDEX outbox_lane_due ON outbox(lane, next_attempt_at, created_at) WHERE status = 'pending';
  CREATE INDEX outbox_finished ON outbox(done_at) WHERE done_at IS NOT NULL;
  CREATE INDEX outbox_dead ON outbox(done_at) WHERE status = 'failed';
  `,
];
