import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, onSignedOut } from './api';
import { useCluster } from './cluster';
import { fleet } from './fleet';
import { restoreRadar } from './radar';
import { useRoute, type Route } from './router';
import { AgentView } from './views/Agent';
import { FleetView } from './views/Fleet';
import { LoginView } from './views/Login';
import { NodesView } from './views/Nodes';
import { PeersView } from './views/Peers';
import { ReposView } from './views/Repos';
import { ReviewView } from './views/Review';
import { SpawnView } from './views/Spawn';
import { useFleet } from './views/use-fleet';
import './style.css';

type Session = 'checking' | 'signed-in' | 'signed-out';

const NAV: { view: Route['view']; href: string; label: string }[] = [
  { view: 'fleet', href: '#/', label: 'Fleet' },
  { view: 'review', href: '#/review', label: 'Review' },
  { view: 'spawn', href: '#/spawn', label: 'Spawn' },
  { view: 'repos', href: '#/repos', label: 'Repositories' },
  { view: 'peers', href: '#/peers', label: 'Peers' },
];
/** A cluster's nodes: in the navigation only when the instance is one. */
const NODES_NAV = { view: 'nodes' as const, href: '#/nodes', label: 'Nodes' };

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const { status } = useFleet();
  const clustered = useCluster();
  const nav = clustered ? [...NAV, NODES_NAV] : NAV;
  const current = route.view === 'agent' ? 'fleet' : route.view;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">Mosaic</a>
        <nav aria-label="Views">
          {nav.map((item) => (
            <a key={item.view} href={item.href} aria-current={current === item.view ? 'page' : undefined}>{item.label}</a>
          ))}
        </nav>
        <span class={`stream stream-${status}`} role="status" title="event stream">
          {status === 'live' ? '● live' : status === 'connecting' ? '○ connecting' : '◌ reconnecting'}
        </span>
        <button type="button" class="quiet" onClick={onSignOut}>Sign out</button>
      </header>
      <main>
        {route.view === 'fleet' && <FleetView />}
        {route.view === 'agent' && <AgentView id={route.id} tab={route.tab} />}
        {route.view === 'review' && <ReviewView />}
        {route.view === 'spawn' && <SpawnView />}
        {route.view === 'repos' && <ReposView />}
        {route.view === 'peers' && <PeersView />}
        {route.view === 'nodes' && <NodesView />}
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session>('checking');
  const [notice, setNotice] = useState<string | undefined>();

  useEffect(() => {
    // `/login` sends a spent or expired code here; say so once, then clean the address bar.
    if (new URLSearchParams(location.search).get('login') === 'failed') {
      setNotice('That login link was already used or has expired. Run `mosaic dashboard` again, or paste the admin token.');
      history.replaceState(null, '', `/${location.hash}`);
    }
    api.get<{ signedIn: boolean }>('/dashboard/session')
      .then((answer) => setSession(answer.signedIn ? 'signed-in' : 'signed-out'))
      .catch(() => setSession('signed-out'));
    return onSignedOut(() => setSession('signed-out'));
  }, []);

  useEffect(() => {
    if (session !== 'signed-in') return;
    restoreRadar();
    void fleet.start();
    return () => fleet.stop();
  }, [session]);

  const signOut = async () => {
    try {
      await api.del('/dashboard/session');
    } finally {
      fleet.stop();
      setSession('signed-out');
    }
  };

  if (session === 'checking') return <p class="loading" role="status">Loading…</p>;
  if (session === 'signed-out') return <LoginView notice={notice} onSignedIn={() => { setNotice(undefined); setSession('signed-in'); }} />;
  return <Shell onSignOut={() => void signOut()} />;
}

render(<App />, document.getElementById('app')!);
