import { useState } from 'preact/hooks';
import * as actions from '../actions';
import { messageOf } from '../api';
import { agentHref, navigate } from '../router';
import type { Agent } from '../types';

interface Props {
  agent: Agent;
  /** Where the action's outcome is said (a status line next to the buttons). */
  onNotice: (text: string) => void;
  /** After a discard: the agent view leaves for the fleet, the review list stays. */
  onDiscarded?: () => void;
}

/**
 * The buttons of one agent, the same for local and remote agents where the
 * API has the action: Kill, Land (strategy), Retry (on its work), Reply,
 * Fetch, Discard. Used by the agent view and by each row of the Review view.
 */
export function AgentActions({ agent, onNotice, onDiscarded }: Props) {
  const allowed = actions.allowedFor(agent);
  const [busy, setBusy] = useState(false);
  const [strategy, setStrategy] = useState<string>('merge');
  const [onItsWork, setOnItsWork] = useState(false);
  const [replying, setReplying] = useState(false);
  const [prompt, setPrompt] = useState('');
  const [promptError, setPromptError] = useState<string | undefined>();

  const act = async (what: string, call: () => Promise<string | undefined>) => {
    setBusy(true);
    try {
      const said = await call();
      if (said !== undefined) onNotice(said);
    } catch (err) {
      // The server's message is complete (a land conflict names its paths once, and what to do next).
      onNotice(`${what} failed: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  };

  const started = (what: string) => (next: Agent): string => {
    navigate(agentHref(next.id));
    return `${what} of ${agent.id}: ${next.id} started.`;
  };

  const land = () => void act('Land', async () => {
    const landed = (await actions.land(agent, strategy)).landed;
    return `Land: done.${landed ? ` ${landed.into} is now at ${landed.commit.slice(0, 10)} (${landed.strategy}).` : ''}`;
  });
  const retry = () => void act('Retry', async () => started('Retry')(await actions.retry(agent, onItsWork)));
  const sendReply = (event: Event) => {
    event.preventDefault();
    if (prompt.trim() === '') {
      setPromptError('Say what the agent should do next.');
      return;
    }
    setPromptError(undefined);
    void act('Reply', async () => {
      const next = await actions.reply(agent, prompt);
      setReplying(false);
      setPrompt('');
      return started('Reply')(next);
    });
  };
  const kill = () => void act('Kill', async () => {
    await actions.kill(agent);
    return 'Kill: requested.';
  });
  const fetchWork = () => void act('Fetch', async () => {
    const fetched = await actions.fetchWork(agent);
    return `Fetch: done — ${fetched.branch} in ${fetched.repo} at ${fetched.commit.slice(0, 10)}.`;
  });
  const discard = () => void act('Discard', async () => {
    if (!(await actions.discard(agent))) return 'Discard: kept, nothing was discarded.';
    onDiscarded?.();
    return `Discard of ${agent.id}: done.`;
  });

  const replyId = `reply-${agent.id}`;
  return (
    <div class="actions-block">
      <div class="actions">
        {allowed.kill && <button type="button" class="danger" disabled={busy || agent.killRequested} onClick={kill}>Kill</button>}
        {allowed.land && (
          <>
            <label class="inline">Strategy{' '}
              <select value={strategy} onChange={(e) => setStrategy(e.currentTarget.value)}>
                {actions.LAND_STRATEGIES.map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </label>
            <button type="button" disabled={busy} onClick={land}>Land</button>
          </>
        )}
        {agent.landed && <span class="landed" title={`${agent.landed.strategy} into ${agent.landed.into} at ${agent.landed.commit}`}>✓ landed</span>}
        {allowed.retry && (
          <>
            <label class="inline check"><input type="checkbox" checked={onItsWork} onChange={(e) => setOnItsWork(e.currentTarget.checked)} /> on its work</label>
            <button type="button" class="quiet" disabled={busy} onClick={retry}>Retry</button>
          </>
        )}
        {allowed.reply && (
          <button type="button" class="quiet" disabled={busy} aria-expanded={replying} aria-controls={replyId} onClick={() => setReplying(!replying)}>Reply</button>
        )}
        {allowed.fetch && <button type="button" class="quiet" disabled={busy} onClick={fetchWork}>Fetch</button>}
        {allowed.discard && <button type="button" class="danger" disabled={busy} onClick={discard}>Discard</button>}
      </div>
      {replying && (
        <form id={replyId} class="inline-form reply" noValidate onSubmit={sendReply}>
          <label for={`${replyId}-prompt`}>Follow-up for {agent.id}</label>
          <textarea
            id={`${replyId}-prompt`} rows={3} value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)}
            aria-invalid={promptError ? true : undefined} aria-describedby={promptError ? `${replyId}-error` : undefined}
          />
          {promptError && <p class="field-error" id={`${replyId}-error`} role="alert">{promptError}</p>}
          <p class="muted">A new agent continues on this agent's work{agent.runtime.kind === 'claude' ? ', resuming its session' : ''}.</p>
          <button type="submit" disabled={busy}>Send reply</button>
        </form>
      )}
    </div>
  );
}
