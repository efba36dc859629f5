import { useEffect, useState } from 'preact/hooks';
import { api, messageOf } from '../api';
import type { ClusterNode } from '../cluster';
import { duration } from '../format';
import { useTick } from './use-fleet';

/** How often the view reads the nodes again (heartbeats come every lease/5). */
const REFRESH_MS = 5000;

/** The nodes of a cluster: state, capacity, what runs there, the last heartbeat; drain and undrain. */
export function NodesView() {
  const [nodes, setNodes] = useState<ClusterNode[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const now = useTick(1000);

  const read = () => api.get<{ nodes: ClusterNode[] }>('/cluster').then((r) => { setNodes(r.nodes); setError(undefined); }, (err: unknown) => setError(messageOf(err)));
  useEffect(() => {
    void read();
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const toggle = async (node: ClusterNode) => {
    const verb = node.state === 'draining' ? 'undrain' : 'drain';
    if (verb === 'drain' && !confirm(`Drain ${node.name}? It finishes its agents and takes no new ones.`)) return;
    setBusy(node.name);
    try {
      const updated = await api.post<ClusterNode>(`/cluster/nodes/${encodeURIComponent(node.name)}/${verb}`);
      setNodes((list) => list?.map((n) => (n.name === updated.name ? updated : n)));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <section aria-labelledby="nodes-title">
      <h1 id="nodes-title">Nodes</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {nodes === undefined ? <p class="muted">Loading…</p> : (
        <table class="nodes">
          <thead><tr><th>Node</th><th>State</th><th>Capacity</th><th>Running</th><th>Heartbeat</th><th>Version</th><th /></tr></thead>
          <tbody>
            {nodes.map((node) => (
              <tr key={node.name} data-node={node.name} data-state={node.state}>
                <td data-label="Node" title={node.url}>{node.name}</td>
                <td data-label="State"><span class={`node-state node-${node.state}`}>{node.state}</span></td>
                <td data-label="Capacity">{node.capacity}</td>
                <td data-label="Running" data-running={node.running}>{node.running}</td>
                <td data-label="Heartbeat">{duration(Math.max(0, now - node.heartbeatAt))} ago</td>
                <td data-label="Version">{node.version}</td>
                <td>
                  {node.state !== 'lost' && (
                    <button type="button" class={node.state === 'draining' ? 'quiet' : 'danger'} disabled={busy === node.name} onClick={() => void toggle(node)}>
                      {node.state === 'draining' ? 'Undrain' : 'Drain'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
