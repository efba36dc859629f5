import { useEffect, useState } from 'preact/hooks';
import { api, messageOf } from '../api';
import { time } from '../format';
import type { Connection, Grants, Message } from '../types';

const MESSAGE_LIMIT = 100;

function grantsText(grants: Grants | null): string {
  if (!grants) return 'not told';
  const repos = grants.repos.length === 0 ? 'no repos' : grants.repos.join(', ');
  return `${repos}; ${grants.runtimes.join(', ') || 'no runtimes'}; up to ${grants.maxActiveAgents} agents; ${grants.commands.length} commands`;
}

function InviteForm({ onDone }: { onDone: () => void }) {
  const [repos, setRepos] = useState('');
  const [runtimes, setRuntimes] = useState({ claude: true, codex: false, gemini: false, opencode: false, command: false });
  const [max, setMax] = useState('5');
  const [token, setToken] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const grants = {
        repos: repos.split(',').map((r) => r.trim()).filter(Boolean),
        runtimes: Object.entries(runtimes).filter(([, on]) => on).map(([kind]) => kind),
        maxActiveAgents: Number(max),
      };
      const answer = await api.post<{ token: string; expiresAt: number }>('/federation/invites', { grants });
      setToken(`${answer.token}`);
      onDone();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <form class="inline-form" onSubmit={(e) => void submit(e)} aria-labelledby="invite-title">
      <h2 id="invite-title">Invite a peer</h2>
      <label for="invite-repos">Repositories it may use (comma-separated, * for all)</label>
      <input id="invite-repos" value={repos} onInput={(e) => setRepos(e.currentTarget.value)} />
      <fieldset>
        <legend>Runtimes</legend>
        {(['claude', 'codex', 'gemini', 'opencode', 'command'] as const).map((kind) => (
          <label key={kind} class="check">
            <input type="checkbox" checked={runtimes[kind]} onChange={(e) => setRuntimes({ ...runtimes, [kind]: e.currentTarget.checked })} /> {kind}
          </label>
        ))}
      </fieldset>
      <label for="invite-max">Agents at once</label>
      <input id="invite-max" inputMode="numeric" value={max} onInput={(e) => setMax(e.currentTarget.value)} />
      {error && <p class="field-error" role="alert">{error}</p>}
      <button type="submit">Create invite</button>
      {token && (
        <p class="notice" role="status">
          Give the peer this single-use token (<code>mosaic peers connect URL --token …</code>): <code class="token">{token}</code>
        </p>
      )}
    </form>
  );
}

function ConnectForm({ onDone }: { onDone: () => void }) {
  const [url, setUrl] = useState('');
  const [token, setToken] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      await api.post('/federation/connections', { url: url.trim(), ...(token.trim() ? { token: token.trim() } : {}), ...(name.trim() ? { name: name.trim() } : {}) });
      setUrl('');
      setToken('');
      setName('');
      onDone();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <form class="inline-form" onSubmit={(e) => void submit(e)} aria-labelledby="connect-title">
      <h2 id="connect-title">Connect to a peer</h2>
      <label for="connect-url">Peer URL</label>
      <input id="connect-url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      <label for="connect-token">Invite token (optional: without one the peer's admin must accept)</label>
      <input id="connect-token" type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
      <label for="connect-name">Name (optional)</label>
      <input id="connect-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      {error && <p class="field-error" role="alert">{error}</p>}
      <button type="submit">Connect</button>
    </form>
  );
}

/** Federation: connections with the grants of both sides, the signed message log, invites and requests. */
export function PeersView() {
  const [connections, setConnections] = useState<Connection[] | undefined>();
  const [messages, setMessages] = useState<Message[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [version, setVersion] = useState(0);
  const refresh = () => setVersion((v) => v + 1);

  useEffect(() => {
    Promise.all([
      api.get<{ connections: Connection[] }>('/federation/connections'),
      api.get<{ messages: Message[] }>(`/federation/messages?limit=${MESSAGE_LIMIT}`),
    ]).then(([c, m]) => {
      setConnections(c.connections);
      setMessages(m.messages);
      setError(undefined);
    }).catch((err: unknown) => setError(messageOf(err)));
  }, [version]);

  const act = async (connection: Connection, verb: 'accept' | 'reject' | 'disconnect') => {
    if (verb === 'disconnect' && !confirm(`Disconnect from ${connection.name}? Nothing from it is accepted afterwards.`)) return;
    try {
      await api.post(`/federation/connections/${encodeURIComponent(connection.id)}/${verb}`);
      setNotice(`${connection.name}: ${verb} done.`);
    } catch (err) {
      setNotice(`${connection.name}: ${verb} failed: ${messageOf(err)}`);
    }
    refresh();
  };

  return (
    <section aria-labelledby="peers-title">
      <div class="title-row">
        <h1 id="peers-title">Peers</h1>
        <button type="button" class="quiet" onClick={refresh}>Refresh</button>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {notice && <p class="notice" role="status">{notice}</p>}
      <h2>Connections</h2>
      {connections && connections.length === 0 && <p class="empty">No connections yet: invite a peer or connect to one below.</p>}
      {connections && connections.length > 0 && (
        <table class="peers">
          <thead>
            <tr><th>Name</th><th>State</th><th>Direction</th><th>May do here</th><th>May do there</th><th>Actions</th></tr>
          </thead>
          <tbody>
            {connections.map((c) => (
              <tr key={c.id}>
                <td data-label="Name"><strong>{c.name}</strong><br /><code class="muted">{c.url}</code></td>
                <td data-label="State">{c.state}</td>
                <td data-label="Direction">{c.direction}{c.pull ? ' (pull)' : ''}</td>
                <td data-label="May do here">{grantsText(c.grants)}</td>
                <td data-label="May do there">{grantsText(c.peerGrants)}</td>
                <td data-label="Actions" class="actions">
                  {c.state === 'pending' && c.direction === 'inbound' && (
                    <>
                      <button type="button" onClick={() => void act(c, 'accept')} aria-label={`Accept ${c.name}`}>Accept</button>
                      <button type="button" class="danger" onClick={() => void act(c, 'reject')} aria-label={`Reject ${c.name}`}>Reject</button>
                    </>
                  )}
                  {(c.state === 'active' || c.state === 'suspended') && (
                    <button type="button" class="danger" onClick={() => void act(c, 'disconnect')} aria-label={`Disconnect ${c.name}`}>Disconnect</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="two-col">
        <InviteForm onDone={refresh} />
        <ConnectForm onDone={refresh} />
      </div>
      <h2>Messages</h2>
      {messages.length === 0
        ? <p class="empty">No messages.</p>
        : (
          <table class="messages">
            <thead>
              <tr><th>Time</th><th>Direction</th><th>Peer</th><th>What</th><th>Status</th><th>Error</th></tr>
            </thead>
            <tbody>
              {messages.map((m) => (
                <tr key={m.messageId}>
                  <td data-label="Time">{time(m.createdAt)}</td>
                  <td data-label="Direction">{m.direction === 'in' ? '← in' : '→ out'}</td>
                  <td data-label="Peer">{m.peerName ?? m.peer.slice(0, 12)}</td>
                  <td data-label="What">{m.kind}{m.op ? ` ${m.op}` : ''}</td>
                  <td data-label="Status">{m.status}{m.attempts > 1 ? ` (${m.attempts} tries)` : ''}</td>
                  <td data-label="Error">{m.errorCode ? `${m.errorCode}${m.errorMessage ? `: ${m.errorMessage}` : ''}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}
