import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { authenticate } from '@pushtech/auth';
import { newId, UUID_V7 } from '@pushtech/events';
import { createMetricsRegistry, discardRefusedBody, healthPlugin } from '@pushtech/http';
import type { Logger } from '@pushtech/logging';
import type { ImageserverConfig } from './config.ts';
import { loadCodec } from './codecs.ts';
import { sniffFormat, type ImageFormat } from './image-header.ts';
import { createImageserverMetrics, type UploadOutcome } from './imageserver-metrics.ts';
import { ImageStore, type ImageRecord } from './image-store.ts';
import { UploadSlots } from './upload-slots.ts';
import { DEFAULT_FORMAT, OUTPUT_FORMATS, OUTPUT_TYPES, VARIANT_NAMES, type OutputFormat, type VariantName } from './variants.ts';

export const ROUTES = 'POST /images, GET /images/:id, GET /images/:id/:variant[.webp|.avif], DELETE /images/:id, GET /healthz, GET /readyz, GET /metrics';
/** The body is read for these; what it is, is read from its bytes. */
export const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/heic', 'image/heif', 'application/octet-stream'];
const FORMAT_NAMES: Record<ImageFormat, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', heic: 'HEIC (HEVC-coded)' };
/** Variant files never change under their id; a deleted one may stay this long in caches. */
const CACHE_CONTROL = 'public, max-age=86400';

/** A 4xx or 503 with its JSON body. */
class ApiError extends Error {
  readonly status: number;
  readonly body: object;
  constructor(status: number, body: object) {
    super(JSON.stringify(body));
    this.status = status;
    this.body = body;
  }
}

/** Fastify's `frameworkErrors`: errors raised before routing (a malformed URL) skip the error handler. */
function answerBadUrl(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  reply.code(400).send({ error: 'invalid_request', errors: [{ field: 'path', rule: `must be a valid URL: ${error.message}` }] });
}
const invalid = (status: number, error: string, field: string, rule: string) => new ApiError(status, { error, errors: [{ field, rule }] });

/** "a JPEG, PNG or WebP image" */
function formatList(formats: readonly ImageFormat[]): string {
  const names = formats.map((format) => FORMAT_NAMES[format]);
  return `a ${names.slice(0, -1).join(', ')} or ${names.at(-1)} image`;
}

/**
 * What `GET /images/:id` and the upload answer: each variant's size, its default (WebP) file as
 * before AVIF came, and every format's file with its URL.
 */
function describe(record: ImageRecord) {
  const variants = Object.fromEntries(VARIANT_NAMES.map((name) => {
    const { width, height, files } = record.variants[name];
    const formats = Object.fromEntries(OUTPUT_FORMATS.filter((format) => files[format] !== undefined)
      .map((format) => [format, { type: OUTPUT_TYPES[format], bytes: files[format], url: `/images/${record.id}/${name}.${format}` }]));
    return [name, { width, height, type: OUTPUT_TYPES[DEFAULT_FORMAT], bytes: files[DEFAULT_FORMAT], url: `/images/${record.id}/${name}`, formats }];
  }));
  return { ...record, variants };
}

/** libvips' errors list every step that failed, one a line: the first and the last say what went wrong. */
function firstAndLastLine(message: string): string {
  const lines = message.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.length > 1 ? `${lines[0]} … ${lines.at(-1)}` : (lines[0] ?? message);
}

/** `large` (the default format) or `large.avif`. */
function parseVariant(param: string): { variant: string; format: string } {
  const dot = param.indexOf('.');
  return dot < 0 ? { variant: param, format: DEFAULT_FORMAT } : { variant: param.slice(0, dot), format: param.slice(dot + 1) };
}

export interface ImageserverApp {
  http: FastifyInstance;
  store: ImageStore;
  close(): Promise<void>;
}

export async function createApp(config: ImageserverConfig, logger: Logger): Promise<ImageserverApp> {
  const store = new ImageStore(config.IMAGES_DIR);
  const leftovers = await store.open();
  if (leftovers > 0) logger.warn({ leftovers }, 'removed half-written or half-deleted images left by a crash');
  const registry = createMetricsRegistry('imageserver');
  const metrics = createImageserverMetrics(registry);
  const slots = new UploadSlots(config.PROCESSING_CONCURRENCY, config.MAX_WAITING_UPLOADS);
  const codec = await loadCodec(config);
  const accepted = formatList(codec.decodes);

  const http = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: answerBadUrl,
  });
  await http.register(healthPlugin, { registry, checks: { volume: () => store.checkWritable() } });
  http.addContentTypeParser(UPLOAD_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const imageId = (params: unknown): string => {
    const { id } = params as { id: string };
    if (!UUID_V7.test(id)) throw invalid(400, 'invalid_request', 'id', 'must be an image id (a lower-case UUIDv7, as POST /images answers)');
    return id;
  };
  const found = async (id: string): Promise<ImageRecord> => {
    const record = await store.get(id);
    if (record === undefined) throw invalid(404, 'not_found', 'id', 'no image has this id');
    return record;
  };
  // Checked before the body is read: a request without a valid token is not worth 10 MB of memory.
  const users = new WeakMap<FastifyRequest, string>();
  const requireUser = async (request: FastifyRequest, reply: FastifyReply) => {
    const userId = await authenticate(request, reply, config.JWT_SECRET);
    if (userId === undefined) return reply;
    users.set(request, userId);
  };
  const refuseUpload = (outcome: UploadOutcome, error: ApiError): never => {
    metrics.uploads.inc({ outcome });
    throw error;
  };

  http.post('/images', { bodyLimit: config.MAX_UPLOAD_BYTES, onRequest: requireUser }, async (request, reply) => {
    const ownerId = users.get(request)!;
    const body = request.body;
    if (!Buffer.isBuffer(body)) return refuseUpload('invalid', invalid(415, 'unsupported_media_type', 'content-type', `must be one of ${UPLOAD_TYPES.join(', ')}`));
    // No image library sees the bytes before they are known to be of a format it decodes.
    const format = sniffFormat(body);
    if (format === undefined) return refuseUpload('invalid', invalid(400, 'invalid_image', 'body', `must be ${accepted}`));
    if (!codec.decodes.includes(format)) {
      return refuseUpload('invalid', invalid(415, 'unsupported_media_type', 'body', `must be ${accepted}: ${FORMAT_NAMES[format]} cannot be decoded here`));
    }
    const undecodable = (err: unknown) =>
      refuseUpload('invalid', invalid(400, 'invalid_image', 'body', `could not be decoded as ${format}: ${firstAndLastLine(err instanceof Error ? err.message : String(err))}`));
    const header = await codec.probe(body, format).catch(undecodable);
    const pixels = header.width * header.height;
    if (pixels > config.MAX_PIXELS) {
      return refuseUpload('too_large', invalid(400, 'invalid_image', 'body', `must be at most ${config.MAX_PIXELS} pixels (this one is ${header.width}×${header.height})`));
    }

    const slot = slots.take();
    if (slot === undefined) {
      metrics.uploads.inc({ outcome: 'busy' });
      reply.header('retry-after', '1');
      throw new ApiError(503, { error: 'busy', message: 'too many uploads are being processed: nothing was stored, retry later' });
    }
    metrics.waitingUploads.set(slots.queued);
    const release = await slot;
    metrics.waitingUploads.set(slots.queued);
    try {
      const timer = metrics.processingSeconds.startTimer();
      const { width, height, variants } = await codec.makeVariants(body, header).catch(undecodable);
      timer();
      const record: ImageRecord = {
        id: newId(),
        ownerId,
        createdAt: new Date().toISOString(),
        width,
        height,
        variants: Object.fromEntries(VARIANT_NAMES.map((name) => {
          const { width, height, files } = variants[name];
          return [name, { width, height, files: Object.fromEntries(OUTPUT_FORMATS.map((format) => [format, files[format].length])) }];
        })) as ImageRecord['variants'],
      };
      await store.save(record, variants);
      metrics.uploads.inc({ outcome: 'stored' });
      request.log.info({ id: record.id, ownerId, format, width: header.width, height: header.height, bytes: body.length, codec: codec.name }, 'image stored');
      return reply.code(201).header('location', `/images/${record.id}`).send(describe(record));
    } finally {
      release();
    }
  });

  http.get('/images/:id', async (request) => describe(await found(imageId(request.params))));

  http.get('/images/:id/:variant', async (request, reply) => {
    const id = imageId(request.params);
    const { variant, format } = parseVariant((request.params as { variant: string }).variant) as { variant: VariantName; format: OutputFormat };
    if (!VARIANT_NAMES.includes(variant)) throw invalid(404, 'not_found', 'variant', `must be one of ${VARIANT_NAMES.join(', ')}`);
    if (!OUTPUT_FORMATS.includes(format)) throw invalid(404, 'not_found', 'format', `must be one of ${OUTPUT_FORMATS.join(', ')}`);
    const etag = `"${id}.${variant}.${format}"`;
    reply.header('etag', etag).header('cache-control', CACHE_CONTROL);
    if (request.headers['if-none-match'] === etag && (await store.get(id)) !== undefined) {
      metrics.served.inc({ variant, format, status: '304' });
      return reply.code(304).send();
    }
    const file = await store.openVariant(id, variant, format);
    if (file === undefined) {
      if ((await store.get(id)) === undefined) throw invalid(404, 'not_found', 'id', 'no image has this id');
      throw invalid(404, 'not_found', 'format', `this image has no ${format} files (it was stored before they were made)`);
    }
    metrics.served.inc({ variant, format, status: '200' });
    return reply.type(OUTPUT_TYPES[format]).header('content-length', file.size).header('x-content-type-options', 'nosniff').send(file.stream);
  });

  http.delete('/images/:id', { onRequest: requireUser }, async (request, reply) => {
    const userId = users.get(request)!;
    const id = imageId(request.params);
    const record = await found(id);
    if (record.ownerId !== userId) throw invalid(403, 'forbidden', 'authorization', "must be a token of the image's owner");
    if (await store.delete(id)) {
      metrics.deleted.inc();
      request.log.info({ id, ownerId: userId }, 'image deleted');
    }
    return reply.code(204).send();
  });

  http.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not_found', errors: [{ field: 'path', rule: `must be one of ${ROUTES}` }] }));
  http.setErrorHandler(async (err: FastifyError, request, reply: FastifyReply) => {
    await discardRefusedBody(err, request);
    if (err instanceof ApiError) return reply.code(err.status).send(err.body);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      metrics.uploads.inc({ outcome: 'too_large' });
      return reply.code(413).send({ error: 'body_too_large', errors: [{ field: 'body', rule: `must be at most ${config.MAX_UPLOAD_BYTES} bytes` }] });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      metrics.uploads.inc({ outcome: 'invalid' });
      return reply.code(415).send({ error: 'unsupported_media_type', errors: [{ field: 'content-type', rule: `must be one of ${UPLOAD_TYPES.join(', ')}` }] });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send({ error: 'invalid_request', errors: [{ field: 'request', rule: err.message }] });
    request.log.error({ err }, 'request failed');
    if (request.method === 'POST') metrics.uploads.inc({ outcome: 'failed' });
    return reply.code(500).send({ error: 'internal_error', message: 'the request failed; it was logged' });
  });

  return { http, store, close: () => http.close() };
}
