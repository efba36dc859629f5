import { execFileSync } from 'node:child_process';
import type { Config } from '../../core/config.js';
import { invalid } from '../../core/errors.js';
import { findExecutable } from './detect.js';

/**
 * The unprivileged user sandboxed processes run as when Mosaic itself runs as
 * root (`MOSAIC_AGENT_USER`, default `nobody`). Root without capabilities is
 * still the owner of every root-owned file: it reads `/etc/shadow`, SSH host
 * keys and anything 0600 that no policy thought to hide. As another uid, only
 * what the sandbox binds in and the world may read is readable.
 */
export interface AgentUser {
  /** As configured (`nobody`, `65534`, `1001:1001`). */
  spec: string;
  uid: number;
  gid: number;
}

const ID = /^[0-9]{1,10}$/;

function lookup(kind: 'passwd' | 'group', key: string): string[] | null {
  try {
    const line = execFileSync('getent', [kind, key], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0] ?? '';
    return line === '' ? null : line.split(':');
  } catch {
    return null;
  }
}

/** `name`, `uid` or `uid:gid` to ids; a name's group is its primary group. Throws `invalid_config`. */
export function resolveAgentUser(spec: string): AgentUser {
  const [user = '', group] = spec.split(':', 2);
  let uid: number;
  let gid: number | undefined;
  if (ID.test(user)) {
    uid = Number(user);
    const entry = lookup('passwd', user);
    gid = entry ? Number(entry[3]) : undefined;
  } else {
    const entry = lookup('passwd', user);
    // `nobody` is 65534 on every Linux distribution; a system without NSS tools still gets it.
    if (entry === null && user !== 'nobody') throw invalid('invalid_config', `MOSAIC_AGENT_USER: no user named ${user}`);
    uid = entry ? Number(entry[2]) : 65534;
    gid = entry ? Number(entry[3]) : 65534;
  }
  if (group !== undefined) {
    if (ID.test(group)) gid = Number(group);
    else {
      const entry = lookup('group', group);
      if (entry === null) throw invalid('invalid_config', `MOSAIC_AGENT_USER: no group named ${group}`);
      gid = Number(entry[2]);
    }
  }
  gid ??= uid;
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid > 0xfffffffe || gid > 0xfffffffe) {
    throw invalid('invalid_config', `MOSAIC_AGENT_USER: ${spec} does not name a user`);
  }
  if (uid === 0 || gid === 0) throw invalid('invalid_config', `MOSAIC_AGENT_USER must be an unprivileged user, not ${spec} (uid ${uid}, gid ${gid})`);
  return { spec, uid, gid };
}

const resolved = new Map<string, AgentUser>();

/** Whether this process runs as root, the one case where agents change user. */
export function runsAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The user sandboxed agents run as: null when Mosaic is not root (they keep Mosaic's own uid). Throws `invalid_config`. */
export function agentUserFor(config: Pick<Config, 'agentUser'>): AgentUser | null {
  if (!runsAsRoot()) return null;
  const known = resolved.get(config.agentUser);
  if (known) return known;
  const user = resolveAgentUser(config.agentUser);
  resolved.set(config.agentUser, user);
  return user;
}

/**
 * util-linux's setpriv, which drops to the agent user inside the sandbox
 * (after bubblewrap, as root, made the mounts); null when it is not on PATH.
 */
export function findSetpriv(path: string | undefined = process.env.PATH): string | null {
  return findExecutable('setpriv', path);
}

/**
 * The argv that runs `argv` as `user`: real, effective and saved ids, no
 * supplementary groups, and no capability left in any set (bubblewrap grants
 * setpriv exactly CAP_SETUID, CAP_SETGID and CAP_SETPCAP for this; the
 * bounding set is emptied, and bubblewrap's no_new_privs keeps setuid files
 * from giving anything back).
 */
export function asUserArgv(setpriv: string, user: AgentUser, argv: string[]): string[] {
  return [setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--', ...argv];
}
