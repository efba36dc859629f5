import { spawn } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { constants } from 'node:os';

export interface Interrupt {
  /** Fires on Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
  /** The signal that interrupted the command, if one did. */
  readonly by: NodeJS.Signals | undefined;
  dispose(): void;
}

/** The shell's status for a command ended by `sig`: 130 for Ctrl-C, 143 for SIGTERM. */
export const exitStatusFor = (sig: NodeJS.Signals): number => 128 + (constants.signals[sig] ?? 0);

/**
 * An AbortSignal that fires on Ctrl-C (SIGINT) or SIGTERM, so long-running
 * commands stop their request and end cleanly instead of dying mid-line.
 * The process then exits as a shell expects of an interrupted command (130
 * for Ctrl-C, 143 for SIGTERM), so `mosaic events && next` does not go on.
 * `streaming`: the command's output is a stream that may sit idle for long
 * (events, logs -f, list --watch); it also ends, quietly with status 0, as
 * soon as the reader of its stdout goes away (see watchReader).
 * `dispose` restores the default signal handling.
 */
export function interruptible(opts: { streaming?: boolean } = {}): Interrupt {
  const controller = new AbortController();
  let by: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    by = sig;
    process.exitCode = exitStatusFor(sig);
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stopWatching = opts.streaming ? watchReader(() => process.exit(0)) : () => {};
  return {
    signal: controller.signal,
    get by() {
      return by;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stopWatching();
    },
  };
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * When the reader of stdout goes away (`mosaic events | head -1`), the next
 * write fails with EPIPE. That is the normal end of a pipeline, not a
 * failure: exit 0 at once, quietly, as `cat` and `docker events` do.
 */
export function endQuietlyWhenReaderLeaves(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(0);
      throw err;
    });
  }
}

/**
 * Calls `gone` when the reader of stdout closes its end of the pipe, even
 * while nothing is written. A write is the only way Node itself notices (it
 * has no poll(2)), so an idle stream (`mosaic events | head -2` once two
 * events came and no third does) would wait for the next event, for ever
 * if none comes. GNU `tail -f` watches its stdout with poll(2) for exactly
 * this (POLLERR on a pipe whose reader left) and dies of SIGPIPE then; it
 * runs here on our stdout, following nothing, and `--pid` ends it within a
 * second of this process. Only for a pipe: a terminal hangs up with
 * SIGHUP, and a file never loses its reader. Where there is no GNU tail
 * (busybox, macOS) it fails at once and the next write's EPIPE ends the
 * command, as before. Returns a function that stops watching.
 */
export function watchReader(gone: () => void, out = 1): () => void {
  let isPipe = false;
  try {
    isPipe = fstatSync(out).isFIFO();
  } catch {
    // not a descriptor we can inspect: nothing to watch
  }
  if (!isPipe) return () => {};
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn('tail', ['-f', `--pid=${process.pid}`, '/dev/null'], { stdio: ['ignore', out, 'ignore'] });
  } catch {
    return () => {};
  }
  let stopped = false;
  child.on('error', () => {}); // no tail here: the next write's EPIPE is all there is
  // Only a death by SIGPIPE means the reader left; an unknown option or a missing binary is an ordinary exit.
  child.on('exit', (_code, signal) => {
    if (!stopped && signal === 'SIGPIPE') gone();
  });
  child.unref();
  return () => {
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) child.kill();
  };
}
