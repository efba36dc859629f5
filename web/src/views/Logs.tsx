import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, messageOf } from '../api';
import { cost, duration } from '../format';
import { renderLine, type LogItem } from '../stream-json';

/** Only the latest items stay on the page: a long run must not make it slow. */
const MAX_ITEMS = 3000;
const RETRY_MS = 1000;

function Item({ item }: { item: LogItem }) {
  switch (item.kind) {
    case 'text':
      return <p class="log-text">{item.text}</p>;
    case 'tool':
      return <p class="log-tool"><span aria-hidden="true">▸ </span><strong>{item.name}</strong> {item.summary}</p>;
    case 'tool-result': {
      const lines = item.text.split('\n').length;
      return (
        <details class={item.isError ? 'log-result log-result-error' : 'log-result'}>
          <summary>{item.isError ? 'tool error' : 'tool result'} ({lines} line{lines === 1 ? '' : 's'})</summary>
          <pre>{item.text}</pre>
        </details>
      );
    }
    case 'result':
      return (
        <div class={item.ok ? 'log-final' : 'log-final log-final-error'} role="note">
          <strong>{item.ok ? '✓ Result' : '✗ Failed'}</strong>
          {item.turns !== undefined && ` · ${item.turns} turns`}
          {item.costUsd !== undefined && ` · ${cost(item.costUsd)}`}
          {item.durationMs !== undefined && ` · ${duration(item.durationMs)}`}
          {item.text && <p>{item.text}</p>}
        </div>
      );
    case 'system':
      return <p class="log-system">{item.text}</p>;
    case 'raw':
      return <pre class="log-raw">{item.text}</pre>;
  }
}

/** The agent's output, followed live until it ends (`follow=1`), rendered for people. */
export function Logs({ id }: { id: string }) {
  const [items, setItems] = useState<LogItem[]>([]);
  const [dropped, setDropped] = useState(0);
  const [status, setStatus] = useState<'following' | 'ended' | 'reconnecting'>('following');
  const [failure, setFailure] = useState<string | undefined>();

  useEffect(() => {
    let cursor = 0;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    let all: LogItem[] = [];
    let droppedCount = 0;
    setItems([]);
    setDropped(0);
    setStatus('following');
    setFailure(undefined);
    const open = () => {
      // The logs stream is resumed by its cursor (?after=), so a new stream replaces the browser's own retry.
      source = new EventSource(`/api/v1/agents/${encodeURIComponent(id)}/logs?follow=1&after=${cursor}`);
      source.addEventListener('lines', ((event: MessageEvent<string>) => {
        const data = JSON.parse(event.data) as { lines: string[]; next: number };
        cursor = data.next;
        all = all.concat(data.lines.flatMap(renderLine));
        if (all.length > MAX_ITEMS) {
          droppedCount += all.length - MAX_ITEMS;
          all = all.slice(-MAX_ITEMS);
        }
        setItems(all);
        setDropped(droppedCount);
        setStatus('following');
      }) as EventListener);
      source.addEventListener('end', () => {
        closed = true;
        source?.close();
        setStatus('ended');
      });
      source.onerror = () => {
        source?.close();
        if (closed) return;
        setStatus('reconnecting');
        // Ask once by plain request why the stream stopped: a 401 signs the page out (api.ts), a 404 ends here.
        retry = setTimeout(() => {
          api.get(`/agents/${encodeURIComponent(id)}/logs?after=${cursor}&limit=1`)
            .then(() => !closed && open())
            .catch((err: unknown) => {
              if (closed) return;
              if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
                closed = true;
                setFailure(messageOf(err));
              } else open();
            });
        }, RETRY_MS);
      };
    };
    open();
    return () => {
      closed = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [id]);

  return (
    <section aria-label="Logs" class="logs">
      <p class="muted" role="status">
        {failure ? 'The output cannot be read.' : status === 'following' ? 'Following the output…' : status === 'ended' ? 'The agent has ended; this is its whole output.' : 'Reconnecting…'}
        {dropped > 0 && ` (${dropped} earlier entries not shown)`}
      </p>
      {failure && <p class="error" role="alert">{failure}</p>}
      {items.length === 0 && status === 'ended' && <p class="empty">No output.</p>}
      {items.length > 0 && (
        <div class="log-items">
          {items.map((item, i) => <Item key={i + dropped} item={item} />)}
        </div>
      )}
    </section>
  );
}
