import { A2A_MIGRATIONS } from '../a2a/tokens/migrations.js';
import { CLUSTER_MIGRATIONS } from '../cluster/migrations.js';
import { FLEET_MIGRATIONS } from '../fleet/migrations.js';
import { FEDERATION_MIGRATIONS } from '../federation/store/migrations.js';
import { registeredMigrations, type Migration } from '../store/index.js';

/**
 * Every migration an instance runs: the store's registered ones and each
 * module's (federation, A2A tokens, cluster), keyed by version (a module's
 * may also have been registered globally). One list for the server, `doctor`
 * and `db copy`, so they agree on the schema.
 */
export function instanceMigrations(): Migration[] {
  return [...new Map([...registeredMigrations(), ...FEDERATION_MIGRATIONS, ...A2A_MIGRATIONS, ...CLUSTER_MIGRATIONS, ...FLEET_MIGRATIONS].map((m) => [m.version, m])).values()]
    .sort((a, b) => a.version - b.version);
}
