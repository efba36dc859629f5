import { JsonRpcTransportHandler } from '@a2a-js/sdk/server';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { isMosaicError } from '../core/errors.js';
import { errorAnswerOf } from '../http/errors.js';

/** JSON-RPC codes for Mosaic's refusals: A2A's own where one fits, else the implementation-defined server error. */
const TASK_NOT_FOUND = -32001;
const TASK_NOT_CANCELABLE = -32002;
const INVALID_PARAMS = -32602;
const MOSAIC_REFUSED = -32000;

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** Whether an error is one of Mosaic's typed refusals (or a validation failure), rather than the SDK's or a fault. */
export function isMosaicRefusal(err: unknown): boolean {
  return isMosaicError(err) || (typeof err === 'object' && err !== null && 'validation' in err);
}

/**
 * The JSON-RPC error for anything a request handler threw. Mosaic's
 * refusals keep their code and message (`repo_not_granted: …`, details such
 * as the field), as `google.rpc.ErrorInfo` in `data` for v1.0 and as an
 * object for v0.3 clients; the SDK's own errors keep the SDK's mapping.
 */
export function rpcErrorOf(err: unknown, legacy: boolean): RpcError {
  if (!isMosaicRefusal(err)) {
    return (legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError(err) : JsonRpcTransportHandler.mapToJSONRPCError(err)) as RpcError;
  }
  const { status, body } = errorAnswerOf(err);
  const { code, message, details } = body.error;
  const rpcCode = status === 404 ? TASK_NOT_FOUND
    : status === 400 ? INVALID_PARAMS
    : code === 'agent_not_active' ? TASK_NOT_CANCELABLE
    : MOSAIC_REFUSED;
  const info = { code, status, ...(details === undefined ? {} : { details }) };
  const data = legacy ? info : [{
    '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
    reason: code.toUpperCase(),
    domain: 'mosaic',
    metadata: { code, status: String(status), ...(details === undefined ? {} : { details: JSON.stringify(details) }) },
  }];
  return { code: rpcCode, message: `${code}: ${message}`, data };
}
