import type { Migration } from '../../store/index.js';

/**
 * Tables the federation module owns (versions 100–199, see store/sqlite/migrations.ts).
 *
 * The outbox trigger is what makes event delivery crash-safe: an agent
 * transition, its event and the outbox row for the peer that spawned the
 * agent are written by one INSERT in one transaction, so no transition can
 * be recorded without also being queued for its peer.
 */
export const FEDERATION_MIGRATIONS: readonly Migration[] = [
  {
    version: 100,
    name: 'federation: connections, invites, messages, seen, outbox, mirror',
    up: `
      CREATE TABLE federation_connections (
        id          TEXT PRIMARY KEY,
        instance_id TEXT NOT NULL UNIQUE,
        name        TEXT NOT NULL UNIQUE,
        url         TEXT NOT NULL,
        public_key  TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('pending','active','suspended','rejected','disconnected')),
        direction   TEXT NOT NULL CHECK (direction IN ('inbound','outbound')),
        grants      TEXT NOT NULL,
        peer_grants TEXT,
        -- This instance pulls the peer's events (QUERY events) instead of waiting for pushes.
        pull        INTEGER NOT NULL DEFAULT 0 CHECK (pull IN (0, 1)),
        pull_after  INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );

      -- Only the hash of a token is kept: a leaked database leaks no usable invite.
      CREATE TABLE federation_invites (
        token_hash TEXT PRIMARY KEY,
        grants     TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER,
        used_by    TEXT,
        created_at INTEGER NOT NULL
      );

      CREATE TABLE federation_messages (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id     TEXT NOT NULL,
        direction      TEXT NOT NULL CHECK (direction IN ('in','out')),
        kind           TEXT NOT NULL,
        peer           TEXT NOT NULL,
        op             TEXT,
        correlation_id TEXT,
        status         TEXT NOT NULL CHECK (status IN ('pending','delivered','failed','timeout')),
        http_status    INTEGER,
        error_code     TEXT,
        error_message  TEXT,
        attempts       INTEGER NOT NULL DEFAULT 0,
        verified       INTEGER NOT NULL CHECK (verified IN (0, 1)),
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        UNIQUE (direction, peer, message_id)
      );
      CREATE INDEX federation_messages_created ON federation_messages (created_at);

      -- The signed RESPONSE of each message's first delivery, answered again to a repeat.
      CREATE TABLE federation_seen (
        peer        TEXT NOT NULL,
        message_id  TEXT NOT NULL,
        http_status INTEGER NOT NULL,
        response    BLOB NOT NULL,
        signature   TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (peer, message_id)
      );
      CREATE INDEX federation_seen_created ON federation_seen (created_at);

      CREATE TABLE federation_outbox (
        peer            TEXT NOT NULL,
        seq             INTEGER NOT NULL,
        agent_id        TEXT NOT NULL,
        status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','delivered','failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        delivered_at    INTEGER,
        PRIMARY KEY (peer, seq)
      );
      CREATE INDEX federation_outbox_pending ON federation_outbox (peer, status, seq);

      CREATE TRIGGER federation_outbox_enqueue AFTER INSERT ON events
      WHEN NEW.type IN ('agent.state', 'agent.progress')
      BEGIN
        INSERT OR IGNORE INTO federation_outbox (peer, seq, agent_id, created_at)
          SELECT origin, NEW.seq, NEW.agent_id, NEW.created_at FROM agents
          WHERE id = NEW.agent_id AND origin <> 'local';
      END;

      -- Agents this instance spawned on peers, as their last event showed them.
      CREATE TABLE federation_mirror (
        agent_id    TEXT PRIMARY KEY,
        instance_id TEXT NOT NULL,
        state       TEXT NOT NULL,
        repo        TEXT NOT NULL,
        task_id     TEXT NOT NULL,
        origin      TEXT NOT NULL,
        data        TEXT NOT NULL,
        last_seq    INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );
      CREATE INDEX federation_mirror_instance ON federation_mirror (instance_id);
    `,
  },
  {
    version: 101,
    name: 'federation: source addresses of pending connection requests',
    up: `
      CREATE TABLE federation_requests (
        instance_id TEXT PRIMARY KEY,
        source      TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX federation_requests_source ON federation_requests (source);
    `,
  },
  {
    version: 102,
    name: 'federation: grant change notices (version told to the peer, version and time learned from it)',
    up: `
      ALTER TABLE federation_connections ADD COLUMN grants_version INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE federation_connections ADD COLUMN grants_notified INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE federation_connections ADD COLUMN peer_grants_version INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE federation_connections ADD COLUMN peer_grants_at INTEGER;
      UPDATE federation_connections SET peer_grants_at = updated_at WHERE peer_grants IS NOT NULL;
    `,
  },
];
