import { useEffect, useState } from 'preact/hooks';
import { api, messageOf } from '../api';
import { fleet } from '../fleet';
import { radar, refreshRadar } from '../radar';
import { agentHref } from '../router';
import type { Repo, RepoConflicts } from '../types';
import { useFleet } from './use-fleet';

/** Pool state when the instance keeps warm pools: ready of size, preparing, and the last error. */
export function poolText(repo: Repo): string {
  if (!repo.poolSize) return 'off';
  const pool = repo.pool ?? {};
  const parts = [`${pool.ready ?? 0} ready of ${repo.poolSize}`];
  if (pool.preparing) parts.push(`${pool.preparing} preparing`);
  if (pool.error) parts.push(`error: ${pool.error}`);
  return parts.join(', ');
}

function ConflictList({ conflicts }: { conflicts: RepoConflicts }) {
  if (conflicts.pairs.length === 0 && conflicts.base.length === 0) return <p class="muted">No agents touch common paths.</p>;
  const link = (id: string) => <a href={agentHref(id)}>{id}</a>;
  return (
    <ul class="conflicts">
      {conflicts.pairs.map((pair, i) => (
        <li key={`p${i}`} class={pair.conflicts ? 'conflict' : undefined}>
          <span aria-hidden="true">{pair.conflicts ? '✗ ' : '≈ '}</span>
          {link(pair.agents[0] ?? '')} and {link(pair.agents[1] ?? '')} both change {pair.paths.join(', ')}:{' '}
          <strong>{pair.conflicts ? 'would conflict' : 'merge cleanly'}</strong>
        </li>
      ))}
      {conflicts.base.map((entry, i) => (
        <li key={`b${i}`} class="conflict">
          <span aria-hidden="true">✗ </span>{link(entry.agent)} <strong>conflicts with its base</strong> in {entry.paths.join(', ')}
        </li>
      ))}
    </ul>
  );
}

/** The repository registry, with pool state and the conflict radar where the instance has them. */
export function ReposView() {
  const [repos, setRepos] = useState<Repo[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useFleet(); // radar changes arrive as `repo.conflicts` events

  useEffect(() => {
    api.get<{ repos: Repo[] }>('/repos')
      .then(({ repos: list }) => {
        setRepos(list);
        // The last known radar stays shown while every repository's is fetched again (at once, not one by one).
        void refreshRadar(list.map((r) => r.name));
      })
      .catch((err: unknown) => setError(messageOf(err)));
  }, []);

  const hasPools = repos?.some((r) => (r.poolSize ?? 0) > 0) ?? false;
  const shownRadar = radar.available;
  return (
    <section aria-labelledby="repos-title">
      <h1 id="repos-title">Repositories</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {repos && repos.length === 0 && <p class="empty">No repositories. Register one with <code>mosaic repos add NAME PATH</code>.</p>}
      {repos && repos.length > 0 && (
        <table class="repos">
          <thead>
            <tr><th>Name</th><th>Path</th><th>Base branch</th>{hasPools && <th>Pool</th>}{shownRadar && <th>Conflicts</th>}</tr>
          </thead>
          <tbody>
            {repos.map((repo) => {
              const known = fleet.conflicts.get(repo.name);
              const failure = radar.failures.get(repo.name);
              const refreshing = radar.refreshing.has(repo.name);
              return (
                <tr key={repo.name}>
                  <td data-label="Name">{repo.name}</td>
                  <td data-label="Path"><code>{repo.path}</code></td>
                  <td data-label="Base">{repo.baseBranch}</td>
                  {hasPools && <td data-label="Pool">{poolText(repo)}</td>}
                  {shownRadar && (
                    <td data-label="Conflicts" aria-busy={refreshing ? true : undefined}>
                      {known ? <ConflictList conflicts={known} /> : failure ? null : '…'}
                      {failure && <p class="error">{failure}</p>}
                      {known && refreshing && <p class="muted refreshing">refreshing…</p>}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
