/**
 * The demo's three agents. They use the `command` runtime (any program as
 * the agent), so the demo needs no Claude login and no network; with
 * Claude Code the same spawn would carry a prompt and `runtime: {kind: 'claude'}`.
 */
export interface DemoAgent {
  taskId: string;
  /** What the demo says the agent does. */
  what: string;
  prompt: string;
  /** Run as `sh -c <script>` in the agent's own worktree on the spoke. */
  script: string;
}

/** Writes a route and commits it: its diff is a commit on the agent's branch. */
const ADD_HEALTH = `set -e
echo "adding a /health route"
sleep 1
printf '%s\\n' "export const health = (req, res) => res.end('ok');" > src/health.js
printf '%s\\n' "export const routes = ['/', '/health'];" > src/routes.js
git add src/health.js src/routes.js
git commit -q -m "Add a /health route"
echo "committed: $(git log -1 --format=%s)"`;

/** Edits a file and leaves it uncommitted: Mosaic snapshots it onto the branch when the agent ends. */
const DOCUMENT_USAGE = `set -e
echo "documenting how to run the server"
sleep 1
printf '\\n## Usage\\n\\n    PORT=8080 node src/server.js\\n' >> README.md
echo "README.md edited, left uncommitted"`;

/** Runs until stopped, reporting progress: the demo kills it. */
const LONG_JOB = `i=0
while true; do
  i=$((i + 1))
  echo "progress: step $i"
  sleep 0.4
done`;

export const DEMO_AGENTS: readonly DemoAgent[] = [
  { taskId: 'add-health', what: 'adds a /health route and commits it', prompt: 'Add a /health route', script: ADD_HEALTH },
  { taskId: 'document-usage', what: 'documents usage in README.md, uncommitted', prompt: 'Document how to run the server', script: DOCUMENT_USAGE },
  { taskId: 'long-job', what: 'a long job printing progress (to be killed)', prompt: 'Run the long job', script: LONG_JOB },
];
