import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { requestTraceId, traceRequests } from '../telemetry/http-spans.js';
import { ApiError } from './api-error.js';

/** The default request-body limit; a route may set a smaller one. */
export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024;

export type HttpServer = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  ZodTypeProvider
>;

export interface HttpServerOptions {
  logger: Logger;
  bodyLimit?: number;
}

/**
 * A Fastify server the way every service expects it: zod schemas validate requests and serialize
 * responses, every error leaves in the one error shape, and each request logs exactly one line.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    clientErrorHandler: answerClientError,
  }).withTypeProvider<ZodTypeProvider>() as unknown as HttpServer;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => sendError(toApiError(error as Error, request), reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      new ApiError(404, 'invalid_request_error', 'route_not_found', `No route for ${request.method} ${request.url}`),
      reply,
    ),
  );
  traceRequests(app);
  app.addHook('onResponse', (request, reply, done) => {
    // Built only when it will be written: under load at LOG_LEVEL=warn this runs for nothing.
    if (!options.logger.isLevelEnabled('info')) return done();
    request.log.info(
      {
        traceId: requestTraceId(request),
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });
  return app;
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (headers past Node's 16 KiB, a
 * request that did not arrive in time, bytes that are not HTTP) is answered in the error shape too.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message]: [number, string, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are larger than allowed']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request did not arrive in time']
        : [400, 'malformed_request', 'The request is not valid HTTP'];
  const body = JSON.stringify(new ApiError(status, 'invalid_request_error', code, message).toBody());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function sendError(error: ApiError, reply: FastifyReply) {
  return reply.code(error.status).headers(error.headers).send(error.toBody());
}

/** Maps whatever was thrown to the error shape; only an ApiError's own message reaches the client verbatim. */
function toApiError(error: FastifyError | ApiError | Error, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issue = error.validation[0];
    const path = (issue?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    const where = error.validationContext ?? 'body';
    const param = path || (where === 'body' ? undefined : where);
    const unknownKeys = issue?.keyword === 'unrecognized_keys' ? (issue.params as { keys?: string[] }).keys : undefined;
    if (unknownKeys?.length) {
      const name = path ? `${path}.${unknownKeys[0]}` : String(unknownKeys[0]);
      return new ApiError(
        400,
        'invalid_request_error',
        'parameter_unknown',
        `Received unknown parameter: ${name}`,
        name,
      );
    }
    const missing = issue?.keyword === 'invalid_type' && valueAt(sourceOf(request, where), path) === undefined;
    const label = param ? `${where === 'body' ? '' : `${where} `}${param}` : where;
    return new ApiError(
      400,
      'invalid_request_error',
      missing ? 'parameter_missing' : 'parameter_invalid',
      `Invalid ${label}: ${issue?.message ?? 'does not match the schema'}`,
      param,
    );
  }
  const code = (error as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'invalid_request_error', 'body_too_large', 'The request body is larger than allowed');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(
        415,
        'invalid_request_error',
        'unsupported_media_type',
        'Send the request body as application/json',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(
        400,
        'invalid_request_error',
        'body_missing',
        'The request body is empty; send a JSON object',
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, 'invalid_request_error', 'invalid_json', 'The request body is not valid JSON');
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new ApiError(status, 'invalid_request_error', 'invalid_request', error.message);
  }
  if (isResponseSerializationError(error)) {
    request.log.error(
      { err: error, issues: error.cause.issues, traceId: requestTraceId(request) },
      'response does not match its schema',
    );
  } else {
    request.log.error({ err: error, traceId: requestTraceId(request) }, 'unhandled error');
  }
  return new ApiError(500, 'api_error', 'internal_error', 'An internal error occurred; it has been logged');
}

/**
 * Registers a plugin in its own encapsulated scope (its hooks apply to its routes only), keeping
 * the zod type provider so routes stay typed from their schemas.
 */
export function encapsulate(app: HttpServer, plugin: (scope: HttpServer) => void | Promise<void>): void {
  app.register(async (instance) => {
    await plugin(instance.withTypeProvider<ZodTypeProvider>() as unknown as HttpServer);
  });
}

function sourceOf(request: FastifyRequest, where: string): unknown {
  switch (where) {
    case 'headers':
      return request.headers;
    case 'querystring':
      return request.query;
    case 'params':
      return request.params;
    default:
      return request.body;
  }
}

function valueAt(source: unknown, path: string): unknown {
  let value = source;
  for (const part of path ? path.split('.') : []) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
