import { useEffect, useState } from 'preact/hooks';
import { api, isMissingRoute } from './api';

/** A node of the cluster as GET /api/v1/cluster shows it. */
export interface ClusterNode {
  name: string;
  url: string;
  state: 'up' | 'draining' | 'lost';
  capacity: number;
  running: number;
  heartbeatAt: number;
  version: string;
}

/** Whether this instance is a cluster, asked once per page (a single machine has no /cluster: 404 route_not_found). */
let clustered: Promise<boolean> | undefined;

export function isCluster(): Promise<boolean> {
  clustered ??= api.get<{ nodes: ClusterNode[] }>('/cluster').then(() => true, (err: unknown) => {
    if (!isMissingRoute(err)) clustered = undefined; // a passing failure: ask again next time
    return false;
  });
  return clustered;
}

/** False until known: views add their node column and the Nodes view once the instance says it is a cluster. */
export function useCluster(): boolean {
  const [value, setValue] = useState(false);
  useEffect(() => {
    let live = true;
    void isCluster().then((v) => { if (live) setValue(v); });
    return () => { live = false; };
  }, []);
  return value;
}
