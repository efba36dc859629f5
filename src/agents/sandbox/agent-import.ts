import { lstatSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { importCommits, newTips, removeView, type AgentTips, type ImportResult } from '../../git/index.js';
import { AGENT_WRITABLE, copyAgentObjects, HostileTreeError, readAgentFile } from './hostile-fs.js';

/**
 * Brings a sandboxed agent's commits home without trusting anything in its
 * private git dir: its HEAD and branch are read as plain text (no link
 * followed, size-bounded), its object files are copied into a directory of
 * Mosaic's, and git works only there and in the repository (see
 * git/import-commits.ts). Nothing is ever written into the agent's tree.
 */

/** More than this in an agent's own object files is refused (its work then stays where it is). */
export const MAX_AGENT_OBJECT_BYTES = 8 * 1024 ** 3;
const MAX_REF_BYTES = 4096;
const MAX_PACKED_REFS_BYTES = 32 * 1024 ** 2;
const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** Symbolic refs followed at most this deep (git's own limit is 5). */
const MAX_SYMREF_DEPTH = 5;

/** The agent's private git dir inside its box directory, or null when it never had one. */
export function agentGitDir(boxDir: string): string | null {
  const gitDir = join(boxDir, AGENT_WRITABLE.gitDir);
  try {
    return lstatSync(gitDir).isDirectory() ? gitDir : null;
  } catch {
    return null;
  }
}

/** Reads refs of a files-backend git dir the agent wrote: loose first, then packed-refs (read once). */
class AgentRefs {
  private packed: Map<string, string> | undefined;

  constructor(private readonly gitDir: string) {}

  /** The object id `name` (HEAD or refs/…) points to, following `ref:` a few levels; null when it points nowhere. */
  async resolve(name: string, depth = 0): Promise<string | null> {
    const parts = name.split('/');
    const file = parts.pop() as string;
    const text = await readAgentFile(this.gitDir, parts, file, MAX_REF_BYTES);
    if (text === null) return name === 'HEAD' ? null : (await this.packedRefs()).get(name) ?? null;
    const value = text.trim();
    if (OID.test(value)) return value;
    const symref = /^ref: (refs\/\S+)$/.exec(value)?.[1];
    if (symref !== undefined && depth < MAX_SYMREF_DEPTH) return this.resolve(symref, depth + 1);
    throw new HostileTreeError(`${name} in the agent's git dir holds neither an object id nor a ref`, join(this.gitDir, name));
  }

  private async packedRefs(): Promise<Map<string, string>> {
    if (this.packed) return this.packed;
    const text = await readAgentFile(this.gitDir, [], 'packed-refs', MAX_PACKED_REFS_BYTES);
    this.packed = new Map();
    for (const line of (text ?? '').split('\n')) {
      const match = /^([0-9a-f]{40}|[0-9a-f]{64}) (refs\/\S+)$/.exec(line);
      if (match) this.packed.set(match[2] as string, match[1] as string);
    }
    return this.packed;
  }
}

/** The commits the agent's HEAD and `refs/heads/<branch>` name in its private git dir. */
export async function readAgentTips(gitDir: string, branch: string): Promise<AgentTips> {
  const refs = new AgentRefs(gitDir);
  return { head: await refs.resolve('HEAD'), own: await refs.resolve(`refs/heads/${branch}`) };
}

/**
 * Imports the agent's commits onto `branch` of the repository; null when the
 * agent had no private git dir. Call with the agent stopped. `scratchDir` is
 * a directory of Mosaic's outside every sandbox (the agent's record dir).
 */
export async function importAgentCommits(boxDir: string, scratchDir: string, repoPath: string, branch: string): Promise<ImportResult | null> {
  const gitDir = agentGitDir(boxDir);
  if (gitDir === null) return null;
  const tips = await readAgentTips(gitDir, branch);
  const { current, wanted } = await newTips(repoPath, branch, tips);
  if (wanted.length === 0) return { tip: current, keptHead: null }; // the usual case for an agent that never committed
  const view = mkdtempSync(join(scratchDir, 'import-'));
  try {
    await copyAgentObjects(gitDir, join(view, 'objects'), MAX_AGENT_OBJECT_BYTES);
    return await importCommits(repoPath, branch, tips, view, current);
  } finally {
    removeView(view);
  }
}
