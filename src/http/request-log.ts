import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Fastify writes two info lines per request; at info a dashboard or a peer
 * polling every few seconds drowns everything else. This writes one line per
 * request at debug (`MOSAIC_LOG_LEVEL=debug` shows them) once the answer is
 * sent, and errors at error as before. A route's `logLevel` still applies:
 * the dashboard's `/login` stays out of the log.
 */
export class DebugRequestLog extends LogController {
  override incomingRequest(): void {
    // One line per request is enough: it is written when the answer is sent.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const responseTime = Math.round(reply.elapsedTime);
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime }, 'request errored');
    else reply.log.debug({ req: request, res: reply, responseTime }, 'request completed');
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'route not found');
  }
}
