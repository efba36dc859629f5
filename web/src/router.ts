import { useEffect, useState } from 'preact/hooks';

/** Routes live in the fragment, so the server serves one page at `/` and history works. */
export type Route =
  | { view: 'fleet' }
  | { view: 'agent'; id: string; tab: 'logs' | 'diff' }
  | { view: 'review' }
  | { view: 'spawn' }
  | { view: 'repos' }
  | { view: 'peers' }
  | { view: 'nodes' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (parts[0]) {
    case 'agents':
      if (parts[1]) return { view: 'agent', id: parts[1], tab: parts[2] === 'diff' ? 'diff' : 'logs' };
      return { view: 'fleet' };
    case 'review':
      return { view: 'review' };
    case 'spawn':
      return { view: 'spawn' };
    case 'repos':
      return { view: 'repos' };
    case 'peers':
      return { view: 'peers' };
    case 'nodes':
      return { view: 'nodes' };
    default:
      return { view: 'fleet' };
  }
}

export const agentHref = (id: string, tab: 'logs' | 'diff' = 'logs'): string => `#/agents/${encodeURIComponent(id)}${tab === 'diff' ? '/diff' : ''}`;

export function navigate(hash: string): void {
  location.hash = hash;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
