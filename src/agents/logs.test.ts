import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLogPage } from './logs.js';

describe('readLogPage', () => {
  const dirs: string[] = [];
  const tempLog = (content: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'mosaic-logs-'));
    dirs.push(dir);
    const path = join(dir, 'output.log');
    writeFileSync(path, content);
    return path;
  };
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('pages through whole lines with a byte cursor', () => {
    const path = tempLog('one\ntwo\nthree\n');
    const first = readLogPage(path, 0, 2, false);
    expect(first.lines).toEqual(['one', 'two']);
    const second = readLogPage(path, first.next, 10, false);
    expect(second.lines).toEqual(['three']);
    expect(readLogPage(path, second.next, 10, false)).toEqual({ lines: [], next: second.next });
  });

  it('holds back a partial line until it is complete or the writer is gone', () => {
    const path = tempLog('done\npart');
    const page = readLogPage(path, 0, 10, false);
    expect(page.lines).toEqual(['done']);
    appendFileSync(path, 'ial\n');
    expect(readLogPage(path, page.next, 10, false).lines).toEqual(['partial']);
    const ended = tempLog('tail-without-newline');
    expect(readLogPage(ended, 0, 10, true).lines).toEqual(['tail-without-newline']);
  });

  it('answers an empty page for a cursor past the end or out of range', () => {
    const path = tempLog('only\n');
    expect(readLogPage(path, 1_000_000_000_000, 10, true)).toEqual({ lines: [], next: 1_000_000_000_000 });
    expect(readLogPage(path, 1e300, 10, true).lines).toEqual([]);
  });

  it('answers an empty page for a missing log', () => {
    expect(readLogPage('/nonexistent/output.log', 5, 10, true)).toEqual({ lines: [], next: 5 });
  });

  it('keeps multi-byte characters intact across pages', () => {
    const path = tempLog('héllo ✓\nnext\n');
    const page = readLogPage(path, 0, 1, false);
    expect(page.lines).toEqual(['héllo ✓']);
    expect(readLogPage(path, page.next, 1, false).lines).toEqual(['next']);
  });
});
