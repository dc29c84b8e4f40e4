/**
 * A contract test from an OpenAPI 3.0 document: walks every operation of the document a service
 * serves, sending requests made from the document's own schemas (fast-check), some valid and some
 * breaking one rule, and fails on
 *
 * - a status the operation does not document, or any 5xx;
 * - a body that does not match the documented schema (Ajv), a missing or another content type
 *   than documented, a body or a content type on an answer documented without content (204);
 * - a required response header (`Retry-After`, `Location`, …) missing;
 * - a request the document calls invalid that is accepted (2xx), or one it calls valid that is
 *   refused 400 for a rule the document does not state in its schema (`rulesInWords` excepted);
 * - a method a documented path does not have answered otherwise than 405 with `Allow`.
 *
 * Runs are bounded and reproducible: a fixed seed (printed with every failure, with the request
 * and the answer) and `numRuns` requests per operation and kind. Used by every service whose
 * document is served (`/docs/json`); see services/storage/src/openapi-contract.int.spec.ts.
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { invalidArbitrary, schemaValidators, validArbitrary, type KnownValues, type Schema } from './openapi-schemas.ts';

export type { KnownValues, Schema } from './openapi-schemas.ts';

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
  $ref?: string;
}

export interface OpenApiResponse {
  description?: string;
  headers?: Record<string, { required?: boolean; schema?: Schema }>;
  content?: Record<string, { schema?: Schema }>;
}

export interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses: Record<string, OpenApiResponse>;
  security?: Record<string, string[]>[];
  summary?: string;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation> & { parameters?: OpenApiParameter[] }>;
  components?: { schemas?: Record<string, Schema> };
  security?: Record<string, string[]>[];
}

export interface ContractOptions {
  /** Where the service listens: `http://127.0.0.1:8083`. */
  baseUrl: string;
  /** The document (default: fetched from `baseUrl` + `documentPath`: the one the service serves). */
  document?: OpenApiDocument;
  /** Default `/docs/json`. */
  documentPath?: string;
  /**
   * Headers that satisfy an operation's `security` (a valid bearer token, a session cookie). The
   * requests with no or bad credentials send none of these (a bad `Authorization` instead).
   */
  credentials?: (operation: { method: string; path: string }) => Record<string, string>;
  /** Headers of every request, secured or not, below the credentials (a CSRF cookie and its token). */
  headers?: (operation: { method: string; path: string }) => Record<string, string>;
  /** Values of things that exist, by parameter or property name (`{ id: [listing ids] }`): drawn most of the time. */
  knownValues?: KnownValues;
  /**
   * Fields whose rules the document can only say in words (`expiresAt` "must be in the future",
   * a cursor "from a previous page"): a request valid by the schema may be refused 400 naming these.
   */
  rulesInWords?: readonly string[];
  /** The body limit in bytes: a body one byte over it is sent, expecting a documented 4xx (413). */
  bodyLimitBytes?: number;
  /**
   * Which documented statuses ≥ 500 the run may see, by operation (`"GET /readyz"`): a walk of a service
   * whose dependencies are away sees 503s; a loaded machine can make a readiness check time out. Default none.
   */
  allowedServerErrors?: (operation: string, status: number) => boolean;
  /** Paths the document leaves out (its own `/docs` routes), with their methods, for the 405 check. */
  undocumentedPaths?: Record<string, readonly string[]>;
  /** Default 18; `OPENAPI_CONTRACT_SEED` overrides it (a failure prints the seed to put there). */
  seed?: number;
  /** Requests per operation, for the valid and for the invalid ones each (default 25; `OPENAPI_CONTRACT_RUNS` overrides it, for a longer search). */
  numRuns?: number;
  /** Leave out operations (`(method, path) => boolean`, method in upper case). */
  skip?: (method: string, path: string) => boolean;
}

/** What the walk saw: `"GET /listings/{id}"` → status → count. */
export type ContractReport = Map<string, Map<number, number>>;

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

interface Exchange {
  kind: string;
  /** The document calls the request invalid: it must be refused (4xx). */
  mustRefuse: boolean;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP exchange, the path sent as it is (no URL normalisation: `%FF`, `..` reach the server). */
export function send(baseUrl: string, exchange: Pick<Exchange, 'method' | 'path' | 'headers' | 'body'>, timeoutMs = 30_000): Promise<Answer> {
  const url = new URL(baseUrl);
  // Node frames a DELETE's body by nothing unless told its length.
  const headers = exchange.body === undefined ? exchange.headers : { ...exchange.headers, 'content-length': String(Buffer.byteLength(exchange.body)) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: exchange.method, path: exchange.path, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(exchange.body);
  });
}

function mediaType(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(';')[0]?.trim().toLowerCase();
}

const isJson = (media: string) => media === 'application/json' || media.endsWith('+json');

/** Encoded parameters a URL decoder refuses: not percent-encoding, or not UTF-8. */
const MALFORMED = ['%FF', '%E0%A4%A', '%', '%zz', 'a%C0%AFb', '%ED%A0%80'];

function describe(exchange: Exchange, answer?: Answer): string {
  const lines = [`${exchange.kind}: ${exchange.method} ${exchange.path}`];
  for (const [name, value] of Object.entries(exchange.headers)) lines.push(`  ${name}: ${name === 'authorization' ? `${value.slice(0, 16)}…` : value}`);
  if (exchange.body !== undefined) lines.push(`  body: ${exchange.body.length > 400 ? `${exchange.body.slice(0, 400)}… (${exchange.body.length} bytes)` : exchange.body}`);
  if (answer) {
    lines.push(`→ ${answer.status} content-type: ${String(answer.headers['content-type'])}`);
    lines.push(`  ${answer.body.length > 600 ? `${answer.body.slice(0, 600)}…` : answer.body}`);
  }
  return lines.join('\n');
}

export async function fetchDocument(baseUrl: string, documentPath = '/docs/json'): Promise<OpenApiDocument> {
  const answer = await send(baseUrl, { method: 'GET', path: documentPath, headers: {} });
  if (answer.status !== 200) throw new Error(`GET ${documentPath} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  return JSON.parse(answer.body) as OpenApiDocument;
}

/**
 * Walks every operation of the served document (and checks the 405s of every path); resolves
 * with the statuses seen, rejects with the first disagreement (seed, request and answer in the message).
 */
export async function checkOpenApiContract(options: ContractOptions): Promise<ContractReport> {
  const document = options.document ?? (await fetchDocument(options.baseUrl, options.documentPath));
  // The environment wins, so that a failure's seed can be replayed without editing the test.
  const seed = Number(process.env.OPENAPI_CONTRACT_SEED) || (options.seed ?? 18);
  const numRuns = Number(process.env.OPENAPI_CONTRACT_RUNS) || (options.numRuns ?? 25);
  const resolve = (ref: string): Schema => {
    const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
    const schema = name === undefined ? undefined : document.components?.schemas?.[name];
    if (schema === undefined) throw new Error(`cannot resolve ${ref}`);
    return schema;
  };
  const validator = schemaValidators(resolve);
  const report: ContractReport = new Map();

  await checkMethods(options, document);

  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined || options.skip?.(method.toUpperCase(), path)) continue;
      const name = `${method.toUpperCase()} ${path}`;
      const seen = new Map<number, number>();
      report.set(name, seen);
      const walk = new OperationWalk(options, document, path, method, operation, item.parameters ?? [], resolve, validator);
      const check = async (exchange: Exchange) => {
        const answer = await send(options.baseUrl, exchange);
        seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
        const problem = walk.disagreement(exchange, answer);
        if (problem !== undefined) throw new Error(`${name}: ${problem}\n${describe(exchange, answer)}`);
      };
      for (const [kind, arbitrary] of [['valid', walk.valid()], ['invalid', walk.invalid()]] as const) {
        if (arbitrary === undefined) continue;
        try {
          await fc.assert(fc.asyncProperty(arbitrary, check), { seed, numRuns });
        } catch (err) {
          // fast-check keeps the property's own error as the cause: it holds the request and the answer.
          const cause = (err as Error).cause instanceof Error ? `\n${((err as Error).cause as Error).message}` : '';
          throw new Error(`OpenAPI contract: ${name} (${kind} requests) disagrees with the document; reproduce with OPENAPI_CONTRACT_SEED=${seed}${cause}\n${(err as Error).message}`);
        }
      }
    }
  }
  return report;
}

/**
 * Every method a path does not have answers 405 with `Allow` naming those it has, as JSON. What a
 * concrete path has is what every template matching it has (`/listings/nearby` is `/listings/{id}` too).
 */
async function checkMethods(options: ContractOptions, document: OpenApiDocument): Promise<void> {
  const templates: [RegExp, string, string[]][] = [
    ...Object.entries(document.paths).map(([path, item]): [string, string[]] => [path, METHODS.filter((m) => item[m] !== undefined).map((m) => m.toUpperCase())]),
    ...Object.entries(options.undocumentedPaths ?? {}).map(([path, methods]): [string, string[]] => [path, methods.map((m) => m.toUpperCase())]),
  ].map(([path, methods]) => [new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`), path, methods]);
  for (const [, template] of templates) {
    const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(options.knownValues?.[name]?.[0] ?? 'x')));
    const has = [...new Set(templates.filter(([pattern]) => pattern.test(path)).flatMap(([, , methods]) => methods))];
    for (const method of METHODS.map((m) => m.toUpperCase()).filter((m) => !has.includes(m))) {
      const exchange: Exchange = { kind: 'a method the path does not have', mustRefuse: true, method, path, headers: {} };
      const answer = await send(options.baseUrl, exchange);
      const allow = String(answer.headers.allow ?? '').split(',').map((m) => m.trim());
      const problem = answer.status !== 405 ? `answered ${answer.status}, not 405`
        : !has.every((m) => allow.includes(m)) ? `Allow "${answer.headers.allow}" does not name ${has.join(', ')}`
        : mediaType(answer.headers['content-type']) !== 'application/json' ? 'the 405 is not JSON'
        : undefined;
      if (problem !== undefined) throw new Error(`OpenAPI contract: ${method} ${template}: ${problem}\n${describe(exchange, answer)}`);
    }
  }
}

type Parts = { path: Record<string, unknown>; query: Record<string, unknown>; body?: unknown; hasBody: boolean };

class OperationWalk {
  private readonly pathParams: OpenApiParameter[];
  private readonly queryParams: OpenApiParameter[];
  private readonly bodySchema: Schema | undefined;
  private readonly secured: boolean;
  private readonly options: ContractOptions;
  private readonly path: string;
  private readonly method: string;
  private readonly operation: OpenApiOperation;
  private readonly resolve: (ref: string) => Schema;
  private readonly validator: ReturnType<typeof schemaValidators>;
  private readonly coercing: ReturnType<typeof schemaValidators>;

  constructor(options: ContractOptions, document: OpenApiDocument, path: string, method: string, operation: OpenApiOperation,
    pathLevel: OpenApiParameter[], resolve: (ref: string) => Schema, validator: ReturnType<typeof schemaValidators>) {
    this.options = options;
    this.path = path;
    this.method = method.toUpperCase();
    this.operation = operation;
    this.resolve = resolve;
    this.validator = validator;
    this.coercing = schemaValidators(resolve, { coerceTypes: true });
    const parameters = [...pathLevel, ...(operation.parameters ?? [])];
    this.pathParams = parameters.filter((p) => p.in === 'path');
    this.queryParams = parameters.filter((p) => p.in === 'query');
    const content = operation.requestBody?.content;
    this.bodySchema = content?.['application/json']?.schema;
    if (content !== undefined && this.bodySchema === undefined) throw new Error(`${this.method} ${path}: only application/json request bodies are walked (has ${Object.keys(content).join(', ')})`);
    const security = operation.security ?? document.security ?? [];
    this.secured = security.length > 0 && security.every((requirement) => Object.keys(requirement).length > 0);
  }

  private param(p: OpenApiParameter, valid: boolean): fc.Arbitrary<unknown> | undefined {
    const schema = p.schema ?? {};
    const known = this.options.knownValues ?? {};
    if (valid) return validArbitrary(schema, this.resolve, known, p.name).filter((v) => this.coercing(schema)(String(v)));
    // What the server sees of a parameter is text: invalid means its text is refused.
    return invalidArbitrary(schema, this.resolve, known)?.map(String).filter((v) => v !== '' && !this.coercing(schema)(v));
  }

  private validParts(): fc.Arbitrary<Parts> {
    const known = this.options.knownValues ?? {};
    const path = fc.record(Object.fromEntries(this.pathParams.map((p) => [p.name, this.param(p, true)!])));
    const query = fc.record(Object.fromEntries(this.queryParams.map((p) => [p.name, this.param(p, true)!])), {
      requiredKeys: this.queryParams.filter((p) => p.required).map((p) => p.name),
    });
    const schema = this.bodySchema;
    const body = schema === undefined ? fc.constant(undefined) : validArbitrary(schema, this.resolve, known).filter((v) => this.validator(schema)(v));
    return fc.record({ path, query, body }).map((parts) => ({ ...parts, hasBody: schema !== undefined }));
  }

  /** The request of `parts`; `raw` replaces the encoded form of one path or query parameter. */
  private exchange(kind: string, parts: Parts, change: { mustRefuse?: boolean; headers?: Record<string, string>; body?: string; raw?: { name: string; encoded: string }; badCredentials?: boolean } = {}): Exchange {
    const encode = (name: string, value: unknown) => (change.raw?.name === name ? change.raw.encoded : encodeURIComponent(String(value)));
    const path = this.path.replace(/\{([^}]+)\}/g, (_, name: string) => encode(name, parts.path[name]));
    const query = Object.entries(parts.query).filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encode(k, v)}`).join('&');
    const operation = { method: this.method, path: this.path };
    const headers: Record<string, string> = { ...this.options.headers?.(operation), ...(this.secured && !change.badCredentials ? this.options.credentials?.(operation) : {}) };
    let body = change.body;
    if (body === undefined && parts.hasBody && parts.body !== undefined) body = JSON.stringify(parts.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, change.headers);
    for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
    return { kind, mustRefuse: change.mustRefuse ?? true, method: this.method, path: query === '' ? path : `${path}?${query}`, headers, body };
  }

  valid(): fc.Arbitrary<Exchange> {
    return this.validParts().map((parts) => this.exchange('valid', parts, { mustRefuse: false }));
  }

  invalid(): fc.Arbitrary<Exchange> | undefined {
    const parts = this.validParts();
    const ways: fc.Arbitrary<Exchange>[] = [];
    for (const p of this.pathParams) {
      const bad = this.param(p, false);
      if (bad !== undefined) ways.push(fc.tuple(parts, bad).map(([ps, v]) => this.exchange(`path parameter ${p.name} breaks its schema`, { ...ps, path: { ...ps.path, [p.name]: v } })));
      ways.push(fc.tuple(parts, fc.constantFrom(...MALFORMED)).map(([ps, encoded]) => this.exchange(`path parameter ${p.name} is not valid URL encoding or UTF-8`, ps, { raw: { name: p.name, encoded } })));
    }
    for (const p of this.queryParams) {
      const bad = this.param(p, false);
      if (bad !== undefined) ways.push(fc.tuple(parts, bad).map(([ps, v]) => this.exchange(`query parameter ${p.name} breaks its schema`, { ...ps, query: { ...ps.query, [p.name]: v } })));
      if (p.required) ways.push(parts.map((ps) => this.exchange(`query parameter ${p.name} missing`, { ...ps, query: { ...ps.query, [p.name]: undefined } })));
      ways.push(fc.tuple(parts, fc.constantFrom(...MALFORMED)).map(([ps, encoded]) => this.exchange(`query parameter ${p.name} is not valid URL encoding or UTF-8`, { ...ps, query: { ...ps.query, [p.name]: '' } }, { raw: { name: p.name, encoded } })));
    }
    // Not in the document, so not refused by it: any documented answer but a 5xx.
    ways.push(fc.tuple(parts, fc.constantFrom('1', ...MALFORMED)).map(([ps, encoded]) => this.exchange('an unknown query parameter', { ...ps, query: { ...ps.query, unknown_parameter: '' } }, {
      mustRefuse: false,
      raw: { name: 'unknown_parameter', encoded },
    })));
    const schema = this.bodySchema;
    if (schema !== undefined) {
      const bad = invalidArbitrary(schema, this.resolve, this.options.knownValues)?.filter((v) => !this.validator(schema)(v));
      if (bad !== undefined) ways.push(fc.tuple(parts, bad).map(([ps, v]) => this.exchange('body breaks its schema', { ...ps, body: v })));
      ways.push(parts.map((ps) => this.exchange('body is not valid JSON', ps, { body: '{"a": ' })));
      ways.push(parts.map((ps) => this.exchange('body is empty', ps, { body: '' })));
      ways.push(fc.tuple(parts, fc.constantFrom('application/xml', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'))
        .map(([ps, type]) => this.exchange(`body is ${type}`, ps, { body: 'a=1', headers: { 'content-type': type } })));
      if (this.operation.requestBody?.required) ways.push(parts.map((ps) => this.exchange('no body', { ...ps, hasBody: false })));
      const limit = this.options.bodyLimitBytes;
      if (limit !== undefined) ways.push(parts.map((ps) => this.exchange('body over the limit', ps, { body: JSON.stringify({ padding: 'x'.repeat(limit) }) })));
    } else if (this.method !== 'GET') {
      // Taken or refused as the server likes (a DELETE's body means nothing), but with a documented answer.
      ways.push(fc.tuple(parts, fc.constantFrom(['application/json', '{"a":1}'], ['application/json', '{"a": '], ['application/xml', '<a/>'], ['text/plain', 'a']))
        .map(([ps, [type, body]]) => this.exchange(`a ${type} body the operation does not take`, ps, { body, headers: { 'content-type': type }, mustRefuse: false })));
    }
    if (this.secured) {
      ways.push(fc.tuple(parts, fc.constantFrom('', 'Bearer', 'Bearer not-a-jwt', 'Basic YWxpY2U6c2VjcmV0', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.'))
        .map(([ps, authorization]) => this.exchange(authorization === '' ? 'no credentials' : 'bad credentials', ps, { headers: { authorization }, badCredentials: true })));
    }
    return ways.length === 0 ? undefined : fc.oneof(...ways);
  }

  /** Why the answer disagrees with the document, or undefined. */
  disagreement(exchange: Exchange, answer: Answer): string | undefined {
    const { status } = answer;
    if (status >= 500 && !this.options.allowedServerErrors?.(`${this.method} ${this.path}`, status)) return `answered ${status}`;
    const responses = this.operation.responses;
    const documented = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    if (documented === undefined) return `answered ${status}, which the operation does not document (it documents ${Object.keys(responses).join(', ')})`;
    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      if (header.required && answer.headers[name.toLowerCase()] === undefined) return `answered ${status} without its documented header ${name}`;
    }
    const media = mediaType(answer.headers['content-type']);
    if (documented.content === undefined || Object.keys(documented.content).length === 0) {
      if (media !== undefined || answer.body !== '') return `answered ${status} with a body or a content type (${String(media)}), documented without content`;
    } else {
      if (media === undefined) return `answered ${status} without a content type`;
      const content = documented.content[media];
      if (content === undefined) return `answered ${status} as ${media}; documented: ${Object.keys(documented.content).join(', ')}`;
      if (isJson(media) && content.schema !== undefined) {
        let body: unknown;
        try {
          body = JSON.parse(answer.body);
        } catch {
          return `answered ${status} as ${media} with a body that is not JSON`;
        }
        const validate = this.validator(content.schema);
        if (!validate(body)) return `the ${status} body does not match its schema: ${JSON.stringify(validate.errors?.slice(0, 3))}`;
      }
    }
    if (exchange.mustRefuse && status < 400) return `accepted (${status}) a request the document calls invalid (${exchange.kind})`;
    if (!exchange.mustRefuse && exchange.kind === 'valid' && status === 400) {
      const fields = ((JSON.parse(answer.body) as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field);
      const inWords = this.options.rulesInWords ?? [];
      const unstated = fields.filter((field) => !inWords.some((w) => field === w || field.startsWith(`${w}.`)));
      if (fields.length === 0 || unstated.length > 0) return `refused (400) a request the document calls valid, for ${unstated.join(', ') || 'no named field'}: a rule missing from the schema`;
    }
    return undefined;
  }
}

/** The statuses a walk saw, one operation a line: `GET /sources: 200×25 400×23`. */
export function contractSummary(report: ContractReport): string {
  return [...report].map(([operation, seen]) => `${operation}: ${[...seen].sort().map(([status, n]) => `${status}×${n}`).join(' ')}`).join('\n');
}

/**
 * The operations the walk did not reach both sides of (no success, or no refusal), each with why;
 * the runtime's routes (`/healthz`, `/readyz`, `/metrics`) are exempt.
 */
export function oneSidedOperations(report: ContractReport, exempt: readonly string[] = ['GET /healthz', 'GET /readyz', 'GET /metrics']): string[] {
  return [...report].filter(([operation]) => !exempt.includes(operation)).flatMap(([operation, seen]) => [
    ...([...seen.keys()].some((s) => s < 300) ? [] : [`${operation} never succeeded`]),
    ...([...seen.keys()].some((s) => s >= 400) ? [] : [`${operation} never refused`]),
  ]);
}
