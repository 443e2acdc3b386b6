import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';

/**
 * Checks requests to, and responses from, the local fake GitHub against GitHub's own OpenAPI description
 * (`@octokit/openapi`, api.github.com), so the fake cannot drift from the API the app really talks to.
 *
 *   const { match, problems } = openApiValidator().checkRequest({ method: 'GET', path: '/app', query: {}, body: undefined });
 *   openApiValidator().checkResponse(match.operationId, 200, body); // [] when the body has the shape GitHub documents
 */

export interface RequestToCheck {
  method: string;
  /** Without the `/api/v3` prefix and without the query string, still percent-encoded: `/repos/o/r/issues/1/comments`. */
  path: string;
  query: Record<string, string | string[]>;
  /** Parsed JSON, or undefined when the request had no body. */
  body: unknown;
}

export interface MatchedOperation {
  /** As in the spec: `issues/create-comment`. */
  operationId: string;
  /** Path parameters, decoded: `{ owner: 'o', repo: 'r', path: '.github/agent-mapreduce.yml' }`. */
  params: Record<string, string>;
  /** `/repos/{owner}/{repo}/issues/{issue_number}/comments` */
  template: string;
}

export interface OpenApiValidator {
  /** Finds the operation for method + path and checks its path parameters, query parameters and JSON body. */
  checkRequest(request: RequestToCheck): { match: MatchedOperation | undefined; problems: string[] };
  /** Checks a response body against the operation's `application/json` schema for that status. */
  checkResponse(operationId: string, status: number, body: unknown): string[];
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: object;
  'x-multi-segment'?: boolean;
  $ref?: string;
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, unknown> };
  responses: Record<string, { $ref?: string; content?: Record<string, unknown> }>;
}

interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, unknown>;
    parameters: Record<string, Parameter>;
    responses: Record<string, { content?: Record<string, unknown> }>;
  };
}

/** Where an operation sits in the spec, for messages and for JSON pointers into it. */
interface Located {
  method: string;
  template: string;
  operation: Operation;
}

interface RouteNode {
  literals: Map<string, RouteNode>;
  params: ParamEdge[];
  operations: Map<string, Located>;
}

/** One segment with parameters (`{owner}`, `{base}...{head}`), or with `x-multi-segment` several (`contents/{path}`). */
interface ParamEdge {
  pattern: RegExp;
  names: string[];
  multiSegment: boolean;
  node: RouteNode;
}

const SPEC_ID = 'github';
const JSON_TYPE = 'application/json';
/** Formats the spec uses that ajv-formats does not define; GitHub only documents them, so anything passes. */
const DOCUMENTARY_FORMATS = ['int32', 'int64', 'double', 'timestamp', 'binary', 'repo.nwo'];

let cached: OpenApiValidator | undefined;

export function openApiValidator(): OpenApiValidator {
  cached ??= createValidator(loadSpec());
  return cached;
}

/** Bump when `leanSpec` changes what it keeps, so that no older cached copy is read. */
const LEAN_VERSION = 1;

/**
 * The spec without what only documents it, from a copy cached under `.test-build/` for this version of
 * `@octokit/openapi`: a sixth of the size, so every test process that checks calls holds less memory
 * (and each git the app starts forks a smaller process).
 */
function loadSpec(): Spec {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@octokit/openapi/package.json');
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const cacheDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '.test-build');
  const cached = join(cacheDir, `openapi-${version}-lean${LEAN_VERSION}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8')) as Spec;
  } catch {
    // not made yet: made below
  }
  const lean = leanSpec(JSON.parse(readFileSync(join(dirname(packageJson), 'generated', 'api.github.com.json'), 'utf8')) as Spec);
  mkdirSync(cacheDir, { recursive: true });
  // another test process may write the same file at once: each writes its own and renames it into place
  const staging = `${cached}.${process.pid}`;
  writeFileSync(staging, JSON.stringify(lean));
  renameSync(staging, cached);
  return lean;
}

/** Keys that only document a schema, a parameter or an operation; never a property's name (those are under `properties`). */
const DOCUMENTATION = new Set(['description', 'summary', 'example', 'examples', 'externalDocs', 'x-github', 'tags', 'title']);

function leanSpec(spec: Spec): Spec {
  // Without `components.examples`: examples are data, not schemas, and would double the cost of every walk over the spec.
  const { schemas, parameters, responses } = spec.components;
  const lean = withoutDocumentation({ paths: spec.paths, components: { schemas, parameters, responses } }, false) as Spec;
  allowNullWhereNullable(lean);
  return lean;
}

function withoutDocumentation(node: unknown, namesOnly: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutDocumentation(item, false));
  if (typeof node !== 'object' || node === null) return node;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!namesOnly && DOCUMENTATION.has(key)) continue;
    // the keys of `properties` (and of the spec's own maps of named things) are names, not keywords
    const names = !namesOnly && ['properties', 'patternProperties', 'paths', 'schemas', 'parameters', 'responses', 'content'].includes(key)
      && typeof value === 'object' && value !== null && !Array.isArray(value);
    kept[key] = withoutDocumentation(value, names);
  }
  return kept;
}

function createValidator(spec: Spec): OpenApiValidator {
  const routes = indexRoutes(spec);
  const byId = new Map<string, Located>();
  forEachOperation(spec, (located) => byId.set(located.operation.operationId, located));
  // Query and path values arrive as strings; bodies must not be coerced, or `body: 42` would pass as '42'.
  const bodies = createAjv(spec, false);
  const params = createAjv(spec, 'array');
  const validators = new Map<string, ValidateFunction>();
  const validatorFor = (ajv: Ajv, key: string, schema: () => object) => {
    let validate = validators.get(key);
    if (!validate) validators.set(key, (validate = ajv.compile(schema())));
    return validate;
  };

  return {
    checkRequest(request) {
      const method = request.method.toUpperCase();
      const found = matchRoute(routes, method, request.path);
      if (!found) return { match: undefined, problems: [`${method} ${request.path}: matches no GitHub REST operation`] };
      const { located, params: pathParams } = found;
      const { operation, template } = located;
      const where = `${method} ${template}`;
      const match = { operationId: operation.operationId, params: pathParams, template };
      const parameters = (operation.parameters ?? []).map((parameter) => resolveParameter(spec, located, parameter));

      const known = new Set(parameters.filter(({ parameter }) => parameter.in === 'query').map(({ parameter }) => parameter.name));
      const problems = Object.keys(request.query)
        .filter((name) => !known.has(name))
        .map((name) => `${where} query: GitHub defines no parameter '${name}'`);
      const checkParams = validatorFor(params, `params ${operation.operationId}`, () => parameterSchema(parameters));
      // Cloned: coercion rewrites values in place, and the caller still owns the query.
      const paramsValid = checkParams({ path: { ...pathParams }, query: structuredClone(request.query) });
      if (!paramsValid) problems.push(...toProblems(where, '', checkParams.errors));

      const bodySchema = operation.requestBody?.content[JSON_TYPE];
      if (request.body === undefined || request.body === '') {
        if (operation.requestBody?.required) problems.push(`${where} body: is required`);
      } else if (!bodySchema) {
        problems.push(`${where} body: GitHub defines no JSON body for this operation`);
      } else {
        const checkBody = validatorFor(bodies, `body ${operation.operationId}`, () =>
          refTo(['paths', template, located.method, 'requestBody', 'content', JSON_TYPE, 'schema']),
        );
        if (!checkBody(request.body)) problems.push(...toProblems(where, 'body', checkBody.errors));
      }
      return { match, problems };
    },

    checkResponse(operationId, status, body) {
      const located = byId.get(operationId);
      if (!located) return [`${operationId}: no such GitHub operation`];
      const where = `${located.method.toUpperCase()} ${located.template} ${status}`;
      const pointer = responseSchemaPointer(spec, located, status);
      if (pointer === 'undocumented') return [`${where}: GitHub documents no such status for this operation`];
      if (pointer === 'no body') {
        return body === undefined || body === '' ? [] : [`${where} response: GitHub documents no JSON body for this status`];
      }
      const checkBody = validatorFor(bodies, pointer.join(' '), () => refTo(pointer));
      return checkBody(body) ? [] : toProblems(where, 'response', checkBody.errors);
    },
  };
}

function createAjv(spec: Spec, coerceTypes: false | 'array'): Ajv {
  // validateSchema: false — the registered document is a spec, not a schema; checking it against the meta-schema only costs time.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, coerceTypes });
  formats.default(ajv);
  for (const format of DOCUMENTARY_FORMATS) ajv.addFormat(format, true);
  // Registered once so that every `#/components/...` ref inside the spec resolves; validators point into it.
  ajv.addSchema({ $id: SPEC_ID, paths: spec.paths, components: spec.components });
  return ajv;
}

/**
 * OpenAPI 3.0 `nullable: true` means "or null". Ajv honours it only as a widening of `type`, and refuses it
 * without one; where other keywords (`enum`, `allOf`, `$ref`, …) would still reject null, say it explicitly.
 */
function allowNullWhereNullable(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(allowNullWhereNullable);
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Record<string, unknown>;
  for (const value of Object.values(schema)) allowNullWhereNullable(value);
  if (schema.nullable !== true) return;
  const nativeIsEnough = 'type' in schema && !['enum', 'const', 'allOf', 'anyOf', 'oneOf', 'not', '$ref'].some((key) => key in schema);
  if (nativeIsEnough) return;
  const { nullable: _, ...rest } = schema;
  for (const key of Object.keys(schema)) delete schema[key];
  schema.anyOf = [{ type: 'null' }, rest];
}

function forEachOperation(spec: Spec, visit: (located: Located) => void): void {
  for (const [template, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) visit({ method, template, operation });
  }
}

function indexRoutes(spec: Spec): RouteNode {
  const root = newNode();
  forEachOperation(spec, (located) => {
    const multiSegment = new Set(
      (located.operation.parameters ?? []).map((parameter) => resolveParameter(spec, located, parameter).parameter)
        .filter((parameter) => parameter['x-multi-segment'])
        .map((parameter) => parameter.name),
    );
    let node = root;
    for (const segment of located.template.split('/').slice(1)) node = childFor(node, segment, multiSegment);
    node.operations.set(located.method.toUpperCase(), located);
  });
  return root;
}

function newNode(): RouteNode {
  return { literals: new Map(), params: [], operations: new Map() };
}

function childFor(node: RouteNode, segment: string, multiSegment: Set<string>): RouteNode {
  const names = [...segment.matchAll(/\{([^}]+)\}/g)].map((found) => found[1] ?? '');
  if (names.length === 0) {
    let child = node.literals.get(segment);
    if (!child) node.literals.set(segment, (child = newNode()));
    return child;
  }
  const source = `^${segment.split(/\{[^}]+\}/).map(escapeRegExp).join('(.+?)')}$`;
  const multi = names.length === 1 && multiSegment.has(names[0] ?? '');
  let edge = node.params.find((each) => each.pattern.source === source && each.multiSegment === multi && each.names.join() === names.join());
  if (!edge) node.params.push((edge = { pattern: new RegExp(source), names, multiSegment: multi, node: newNode() }));
  return edge.node;
}

function matchRoute(root: RouteNode, method: string, path: string): { located: Located; params: Record<string, string> } | undefined {
  const segments = path.split('/').slice(1);
  if (segments.some((segment) => segment === '')) return undefined;
  const values: [string, string][] = [];

  // Depth first, literal segments before parameters, so `pulls/comments` wins over `pulls/{pull_number}`.
  const visit = (node: RouteNode, at: number): Located | undefined => {
    if (at === segments.length) return node.operations.get(method);
    const literal = node.literals.get(segments[at] ?? '');
    const viaLiteral = literal && visit(literal, at + 1);
    if (viaLiteral) return viaLiteral;
    for (const edge of node.params) {
      // Shortest value first, so that `commits/{ref}/status` wins over `commits/{ref}` with a ref of `sha/status`.
      const ends = edge.multiSegment ? range(at + 1, segments.length) : [at + 1];
      for (const end of ends) {
        const groups = edge.pattern.exec(segments.slice(at, end).join('/'))?.slice(1);
        if (!groups) continue;
        values.push(...edge.names.map((name, index): [string, string] => [name, decode(groups[index] ?? '')]));
        const viaParam = visit(edge.node, end);
        if (viaParam) return viaParam;
        values.length -= edge.names.length;
      }
    }
    return undefined;
  };

  const located = visit(root, 0);
  return located && { located, params: Object.fromEntries(values) };
}

/** From `from` to `to`, both included. */
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A parameter with the JSON pointer of its schema, so the schema's own refs resolve inside the registered spec. */
function resolveParameter(spec: Spec, located: Located, parameter: Parameter): { parameter: Parameter; schemaPointer: string[] } {
  if (parameter.$ref) {
    const name = parameter.$ref.split('/').pop() ?? '';
    const resolved = spec.components.parameters[name];
    if (!resolved) throw new Error(`The GitHub OpenAPI spec has a dangling parameter ref ${parameter.$ref}`);
    return { parameter: resolved, schemaPointer: ['components', 'parameters', name, 'schema'] };
  }
  const index = located.operation.parameters?.indexOf(parameter) ?? -1;
  return { parameter, schemaPointer: ['paths', located.template, located.method, 'parameters', String(index), 'schema'] };
}

function parameterSchema(parameters: { parameter: Parameter; schemaPointer: string[] }[]): object {
  const group = (location: string) => {
    const inLocation = parameters.filter(({ parameter }) => parameter.in === location && parameter.schema);
    return {
      type: 'object',
      properties: Object.fromEntries(inLocation.map(({ parameter, schemaPointer }) => [parameter.name, refTo(schemaPointer)])),
      required: inLocation.filter(({ parameter }) => parameter.required).map(({ parameter }) => parameter.name),
    };
  };
  return { type: 'object', properties: { path: group('path'), query: group('query') } };
}

function responseSchemaPointer(spec: Spec, located: Located, status: number): string[] | 'undocumented' | 'no body' {
  const { responses } = located.operation;
  const key = [String(status), 'default'].find((each) => each in responses);
  const response = key && responses[key];
  // GitHub answers any operation with 401, 403, 404, 422, … even where the spec lists none, always with this shape.
  if (!key || !response) return status >= 400 ? ['components', 'schemas', 'basic-error'] : 'undocumented';
  if (response.$ref) {
    const name = response.$ref.split('/').pop() ?? '';
    const shared = spec.components.responses[name];
    return shared?.content?.[JSON_TYPE] ? ['components', 'responses', name, 'content', JSON_TYPE, 'schema'] : 'no body';
  }
  return response.content?.[JSON_TYPE] ? ['paths', located.template, located.method, 'responses', key, 'content', JSON_TYPE, 'schema'] : 'no body';
}

function refTo(pointer: string[]): object {
  return { $ref: `${SPEC_ID}#/${pointer.map((part) => encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')}` };
}

function toProblems(where: string, part: string, errors: ErrorObject[] | null | undefined): string[] {
  const lines = (errors ?? []).map((error) => {
    const allowed = error.keyword === 'enum' ? ` (${(error.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ')})` : '';
    const location = `${part}${error.instancePath}`.replace(/^\//, '');
    return `${where}${location ? ` ${location}` : ''}: ${error.message ?? error.keyword}${allowed}`;
  });
  return [...new Set(lines)];
}
