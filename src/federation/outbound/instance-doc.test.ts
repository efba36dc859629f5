import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MosaicError } from '../../core/errors.js';
import { fetchInstanceDoc, MAX_DOC_BYTES } from './instance-doc.js';

/**
 * Issue 7, must-hold 12: a peer's instance document is read as a stream and
 * cut off past the limit, so a 400 MiB document costs no more memory than
 * the limit: the reader stops and the server can push little more than the
 * socket buffers hold.
 */
describe('bounded read of a peer instance document', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  });

  it('stops reading a 400 MiB document at the limit', async () => {
    const total = 400 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    let closed = false;
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(total) });
      res.write('{"pad":"');
      const pump = (): void => {
        while (!closed && sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      req.socket.on('close', () => { closed = true; });
      pump();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const err = await fetchInstanceDoc(`http://127.0.0.1:${port}`, 10_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MosaicError);
    expect((err as MosaicError).code).toBe('invalid_peer_instance');
    expect((err as MosaicError).message).toMatch(/too large/);
    // The client gave up after the limit: the server pushed at most the limit plus what socket buffers absorb.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sent).toBeLessThan(MAX_DOC_BYTES + 16 * 1024 * 1024);
  });
});
