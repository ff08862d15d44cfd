import { STATUS_CODES } from 'node:http';
import fastifySwagger, { type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifySchema } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { OpenAPIV3_1 } from 'openapi-types';
import { z } from 'zod';
import { errorBodySchema } from './api-error.js';
import { recordRoutes } from './route-registry.js';
import type { HttpServer } from './server.js';

/** Where the document and its reference page are served. */
export const OPENAPI_PATH = '/v1/openapi.json';
export const DOCS_PATH = '/docs';

/** The security schemes routes name in `schema.security`; `apiKey` applies wherever a route names none. */
export const SECURITY = {
  apiKey: 'apiKey',
  adminKey: 'adminKey',
} as const;

export interface OpenApiOptions {
  info: OpenAPIV3_1.InfoObject;
  tags?: OpenAPIV3_1.TagObject[];
  /** Descriptions of request headers (lower-case names) wherever a route declares them, e.g. idempotency-key. */
  headers?: Record<string, string>;
}

/**
 * Documents the server's routes as OpenAPI 3.1, generated from the zod schemas the routes validate
 * with, and serves the document at `/v1/openapi.json` and a reference page at `/docs` (Swagger UI,
 * served from the package: no CDN). Call before any route is added: the document is built from the
 * routes registered after it.
 */
export async function registerOpenApi(app: HttpServer, options: OpenApiOptions): Promise<void> {
  recordRoutes(app);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: options.info,
      // Where these operations are served: this server's public listener, whatever its address.
      servers: [{ url: '/', description: 'The public listener (HOST:PORT)' }],
      tags: options.tags,
      security: [{ [SECURITY.apiKey]: [] }],
      components: {
        securitySchemes: {
          [SECURITY.apiKey]: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key of the account: `Authorization: Bearer <key>`.',
          },
          [SECURITY.adminKey]: {
            type: 'http',
            scheme: 'bearer',
            description: 'The operator key (ADMIN_KEY): `Authorization: Bearer <admin key>`.',
          },
        },
      },
    },
    transform: withResponseDescriptions,
    transformObject: finishDocument(options.headers ?? {}),
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PATH,
    theme: { title: `${options.info.title}: API reference` },
    uiConfig: { deepLinking: true, defaultModelsExpandDepth: 0 },
    // Swagger UI inserts a <style> element of its own: its pages (only they) take inline styles.
    // Scripts stay from this origin only.
    transformStaticCSP: (header) => header.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
  });
  app.get(
    OPENAPI_PATH,
    {
      schema: {
        summary: 'This OpenAPI 3.1 document',
        tags: ['meta'],
        security: [],
        response: { 200: z.looseObject({ openapi: z.string() }).describe('The OpenAPI document') },
      },
    },
    async () => app.swagger() as unknown as { openapi: string },
  );
}

/** The zod transform, after naming each response for its status (Swagger's default says "Default Response"). */
const withResponseDescriptions: SwaggerTransform = (document) => {
  const schema = document.schema as FastifySchema & { response?: Record<string, unknown> };
  if (!schema?.response || schema.hide) return jsonSchemaTransform(document as ZodTransformInput);
  const response: Record<string, unknown> = {};
  for (const [status, value] of Object.entries(schema.response)) {
    response[status] = value instanceof z.ZodType ? describedResponse(status, value) : value;
  }
  return jsonSchemaTransform({ ...document, schema: { ...schema, response } } as ZodTransformInput);
};

type ZodTransformInput = Parameters<typeof jsonSchemaTransform>[0];

function describedResponse(status: string, schema: z.ZodType) {
  const reason = STATUS_CODES[status] ?? status;
  const description = schema.description ?? (schema === errorBodySchema ? `${reason}: the error shape` : reason);
  return { description, content: { 'application/json': { schema } } };
}

/**
 * The zod schemas as components (those the operations use: the zod registry holds every schema with
 * an id, in an input and an output variant), the one error shape as every operation's `default`
 * answer, and the shared request headers described.
 */
const finishDocument =
  (headers: Record<string, string>): SwaggerTransformObject =>
  (document) => {
    const result = jsonSchemaTransformObject(document) as OpenAPIV3_1.Document;
    const errorResponse: OpenAPIV3_1.ResponseObject = {
      description: 'An error: every 4xx and 5xx answer has this shape',
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA_ID}` } } },
    };
    type Operation = { responses?: object; parameters?: { in: string; name: string; description?: string }[] };
    const paths = (result.paths ?? {}) as Record<string, Partial<Record<string, Operation>>>;
    for (const item of Object.values(paths)) {
      for (const method of METHODS) {
        const operation = item?.[method];
        if (!operation) continue;
        operation.responses = { default: errorResponse, ...operation.responses };
        for (const parameter of operation.parameters ?? []) {
          if (parameter.in === 'header') parameter.description ??= headers[parameter.name.toLowerCase()];
        }
      }
    }
    return withUsedSchemasOnly(result);
  };

/** Drops the component schemas no operation reaches, directly or through another schema. */
function withUsedSchemasOnly(document: OpenAPIV3_1.Document): OpenAPIV3_1.Document {
  const schemas = document.components?.schemas ?? {};
  const prefix = '#/components/schemas/';
  const used = new Set<string>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(prefix)) {
        const name = decodeURIComponent(child.slice(prefix.length));
        if (!used.has(name)) {
          used.add(name);
          visit(schemas[name]);
        }
      } else {
        visit(child);
      }
    }
  };
  visit(document.paths);
  return {
    ...document,
    components: {
      ...document.components,
      schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name))),
    },
  };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const ERROR_SCHEMA_ID = String(z.globalRegistry.get(errorBodySchema)?.id ?? 'Error');
