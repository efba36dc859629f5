import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  const homes: string[] = [];
  const home = (config?: object) => {
    const dir = mkdtempSync(join(tmpdir(), 'mosaic-config-'));
    homes.push(dir);
    if (config) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  };
  afterEach(() => homes.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('has the documented defaults', () => {
    const config = loadConfig({ MOSAIC_HOME: home() });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 7420, url: 'http://127.0.0.1:7420', maxAgents: 8, maxQueue: 1000, claudeBin: 'claude', killGraceMs: 5000 });
  });

  it('lets env override config.json, and overrides win over both', () => {
    const dir = home({ maxAgents: 3, port: 9000, name: 'from-file' });
    expect(loadConfig({ MOSAIC_HOME: dir })).toMatchObject({ maxAgents: 3, port: 9000, url: 'http://127.0.0.1:9000', name: 'from-file' });
    expect(loadConfig({ MOSAIC_HOME: dir, MOSAIC_MAX_AGENTS: '5' }).maxAgents).toBe(5);
    expect(loadConfig({ MOSAIC_HOME: dir }, { home: dir, maxAgents: 7 }).maxAgents).toBe(7);
  });

  it('derives the URL peers are told from the listen address after overrides, unless one is configured', () => {
    const dir = home();
    expect(loadConfig({ MOSAIC_HOME: dir }, { home: dir, port: 8123, host: '::1' }).url).toBe('http://[::1]:8123');
    expect(loadConfig({ MOSAIC_HOME: dir, MOSAIC_URL: 'https://mosaic.example:443' }, { home: dir, port: 8123 }).url).toBe('https://mosaic.example:443');
    expect(loadConfig({ MOSAIC_HOME: dir, MOSAIC_TLS_CERT: 'c.pem', MOSAIC_TLS_KEY: 'k.pem' }).url).toBe('https://127.0.0.1:7420');
  });

  it('reads comma-separated lists', () => {
    expect(loadConfig({ MOSAIC_HOME: home(), MOSAIC_FORWARD_ENV: 'ANTHROPIC_API_KEY, OTHER' }).forwardEnv).toEqual(['ANTHROPIC_API_KEY', 'OTHER']);
  });

  it('refuses out-of-range numbers and a config.json that is not an object', () => {
    expect(() => loadConfig({ MOSAIC_HOME: home(), MOSAIC_MAX_AGENTS: '0' })).toThrow(/MOSAIC_MAX_AGENTS/);
    expect(() => loadConfig({ MOSAIC_HOME: home(), MOSAIC_PORT: 'http' })).toThrow(/MOSAIC_PORT/);
    expect(() => loadConfig({ MOSAIC_HOME: home(), MOSAIC_LOG_FORMAT: 'xml' })).toThrow(/MOSAIC_LOG_FORMAT must be auto, json, pretty/);
    expect(loadConfig({ MOSAIC_HOME: home(), MOSAIC_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ MOSAIC_HOME: home() }).logFormat).toBe('auto');
    const bad = home();
    writeFileSync(join(bad, 'config.json'), '[1]');
    expect(() => loadConfig({ MOSAIC_HOME: bad })).toThrow(/not a JSON object/);
  });
});
