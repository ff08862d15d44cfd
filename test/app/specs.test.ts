import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsOf } from '../../src/app/asyncapi.js';
import { ALL_MODULES } from '../../src/app/modules.js';
import { registeredRoutes } from '../../src/platform/http/route-registry.js';
import { startTestSystem, type TestSystem } from '../support/system.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let test: TestSystem;
let openapi: any;
let asyncapi: any;

beforeAll(async () => {
  test = await startTestSystem({ modules: ALL_MODULES });
  openapi = (await test.api('GET', '/v1/openapi.json', { key: null })).body;
  asyncapi = (await test.api('GET', '/v1/asyncapi.json', { key: null })).body;
});

afterAll(async () => {
  await test?.stop();
});

/** `/v1/payments/:id` → `/v1/payments/{id}` */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the OpenAPI document', () => {
  it('is served without a key and is valid OpenAPI 3.1', async () => {
    const response = await test.api('GET', '/v1/openapi.json', { key: null });
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(openapi));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('has every $ref resolve to a component', () => {
    const refs = JSON.stringify(openapi).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      const pointer = ref.slice('"$ref":"#/'.length, -1).split('/');
      const target = pointer.reduce((node: any, part) => node?.[decodeURIComponent(part)], openapi);
      expect(target, ref).toBeDefined();
    }
  });

  it('documents exactly the routes the server registered, unless hidden', () => {
    const routes = registeredRoutes(test.system.server);
    const gets = new Set(routes.filter((r) => r.method === 'GET').map((r) => r.url));
    const expected = routes
      // HEAD is Fastify's automatic twin of each GET.
      .filter((r) => !r.hidden && !(r.method === 'HEAD' && gets.has(r.url)))
      .map((r) => `${r.method} ${openApiPath(r.url)}`);
    const documented = Object.entries(openapi.paths).flatMap(([path, item]: [string, any]) =>
      Object.keys(item)
        .filter((key) => METHODS.includes(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual([...new Set(expected)].sort());
    // The customer API is there, and what is hidden on purpose is not.
    expect(documented).toEqual(
      expect.arrayContaining(['POST /v1/payments', 'GET /v1/payments/{id}', 'POST /v1/payments/{id}/refunds']),
    );
    expect(Object.keys(openapi.paths).some((path) => path.startsWith('/v1/charges'))).toBe(false);
    expect(Object.keys(openapi.paths).some((path) => path.startsWith('/docs'))).toBe(false);
  });

  it('declares the key schemes, the Idempotency-Key header and the error shape', () => {
    expect(openapi.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(openapi.components.securitySchemes.adminKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(openapi.security).toEqual([{ apiKey: [] }]);
    expect(openapi.paths['/v1/admin/faults'].get.security).toEqual([{ adminKey: [] }]);
    expect(openapi.paths['/v1/openapi.json'].get.security).toEqual([]);

    const pay = openapi.paths['/v1/payments'].post;
    expect(pay.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'idempotency-key', required: true }),
    );
    expect(pay.parameters.find((p: any) => p.name === 'idempotency-key').description).toMatch(/retry/);
    expect(pay.requestBody.content['application/json'].schema.$ref).toMatch(/^#\/components\/schemas\/CreatePayment/);
    expect(pay.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Payment' });

    const error = openapi.components.schemas.Error;
    expect(error.properties.error.required).toEqual(expect.arrayContaining(['type', 'code', 'message']));
    for (const item of Object.values<any>(openapi.paths)) {
      for (const method of METHODS.filter((m) => item[m])) {
        expect(item[method].responses.default.content['application/json'].schema).toEqual({
          $ref: '#/components/schemas/Error',
        });
      }
    }
  });

  it('matches what the API answers: an error carries the documented shape', async () => {
    const response = await test.api('GET', '/v1/payments/pay_missing');
    expect(response.status).toBe(404);
    const documented = openapi.components.schemas.Error.properties.error;
    expect(Object.keys(response.body)).toEqual(['error']);
    expect(Object.keys(response.body.error)).toEqual(expect.arrayContaining(documented.required));
    for (const key of Object.keys(response.body.error)) expect(Object.keys(documented.properties)).toContain(key);
  });
});

describe('the docs page', () => {
  it('is an HTML page whose script loads the served document, with every asset served', async () => {
    const page = await fetch(`${test.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets).toEqual(expect.arrayContaining(['/docs/static/swagger-ui-bundle.js']));
    // Nothing from another host: the page works offline.
    expect(assets.every((asset) => asset.startsWith('/docs/'))).toBe(true);
    for (const asset of assets) {
      const response = await fetch(`${test.url}${asset}`);
      expect(response.status, asset).toBe(200);
      await response.arrayBuffer();
    }

    const initializer = await (await fetch(`${test.url}/docs/static/swagger-initializer.js`)).text();
    expect(initializer).toContain("resolveUrl('./json')");
    const served = await (await fetch(`${test.url}/docs/json`)).json();
    expect(served).toEqual(openapi);
  });
});

describe('the AsyncAPI document', () => {
  it('is served without a key and is valid AsyncAPI 3.0.0', async () => {
    const response = await test.api('GET', '/v1/asyncapi.json', { key: null });
    expect(response.status).toBe(200);
    const { document, diagnostics } = await new Parser().parse(structuredClone(asyncapi));
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    expect(document?.version()).toBe('3.0.0');
  });

  it('has exactly the declared event types as messages, one channel each', () => {
    const declared = eventsOf(ALL_MODULES);
    const messages = Object.values<any>(asyncapi.components.messages);
    expect(messages.map((m) => m.name).sort()).toEqual(declared.map((e) => e.type).sort());
    expect(Object.keys(asyncapi.channels).sort()).toEqual([...new Set(declared.map((e) => e.type))].sort());
    for (const event of declared) {
      const message = messages.find((m) => m.name === event.type);
      const [, specific] = message.payload.allOf;
      expect(specific.properties.type).toEqual({ const: event.type });
      expect(specific.properties.dataschema).toEqual({ const: event.dataschema });
      expect(specific.properties.data.type).toBe('object');
    }
  });

  it('has payments send and every consumer group receive', () => {
    const operations = Object.values<any>(asyncapi.operations);
    const sends = operations.filter((o) => o.action === 'send').map((o) => o.channel.$ref);
    expect(sends).toEqual(expect.arrayContaining(['#/channels/payment.succeeded', '#/channels/payment.failed']));
    const groups = ALL_MODULES.flatMap((m) => m.groups.flatMap((g) => g.events.map((e) => `${g.group} ${e.type}`)));
    const receives = operations
      // The test system adds an `audit` group of its own.
      .filter((o) => o.action === 'receive' && o['x-consumer-group'] !== 'audit')
      .map((o) => `${o['x-consumer-group']} ${o.channel.$ref.replace('#/channels/', '')}`);
    expect(receives.sort()).toEqual(groups.sort());
  });

  it('describes the CloudEvents envelope the transports carry', () => {
    const envelope = asyncapi.components.schemas.CloudEventEnvelope;
    expect(envelope.required).toEqual(
      expect.arrayContaining(['specversion', 'id', 'source', 'type', 'dataschema', 'time', 'datacontenttype']),
    );
    expect(envelope.properties.specversion.const).toBe('1.0');
    expect(asyncapi.defaultContentType).toBe('application/cloudevents+json');
  });
});
