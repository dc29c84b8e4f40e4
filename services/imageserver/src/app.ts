/**
 * The imageserver as a service: its volume is its one dependency (connected once it can be
 * written, what a crash left half-done removed; `/readyz` checks it stays writable); then the
 * codec `IMAGE_CODEC` names is loaded and it takes uploads. `index.ts` runs it; the tests start
 * the same.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, checkOidcConfig, OIDC_DEPENDENCY_ERRORS, oidcVerifierFrom } from '@pushtech/auth';
import { newId, UUID_V7 } from '@pushtech/events';
import type { Logger } from '@pushtech/logging';
import { ApiError, defineService, type Dependency, type JsonErrorOptions, type ServiceContext } from '@pushtech/service';
import { imageserverConfigSpec, type ImageserverConfig } from './config.ts';
import { loadCodec } from './codecs.ts';
import { sniffFormat, type ImageFormat } from './image-header.ts';
import { imageserverMetrics, type ImageserverMetrics } from './imageserver-metrics.ts';
import { ImageStore, type ImageRecord } from './image-store.ts';
import { UploadSlots } from './upload-slots.ts';
import { DEFAULT_FORMAT, OUTPUT_FORMATS, OUTPUT_TYPES, VARIANT_NAMES, type ImageCodec, type OutputFormat, type VariantName } from './variants.ts';

/** The body is read for these; what it is, is read from its bytes. */
const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/heic', 'image/heif', 'application/octet-stream'];
const FORMAT_NAMES: Record<ImageFormat, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', heic: 'HEIC (HEVC-coded)' };
/** Variant files never change under their id; a deleted one may stay this long in caches. */
const CACHE_CONTROL = 'public, max-age=86400';

const invalid = (status: number, code: string, field: string, rule: string) => new ApiError(status, code, [{ field, rule }]);

/** An image over MAX_PIXELS: answered as an invalid image, counted as too large. */
class TooManyPixels extends ApiError {}

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

/** What the routes use once the volume is there and the codec loaded. */
interface RunningImageserver {
  store: ImageStore;
  codec: ImageCodec;
  /** "a JPEG, PNG, WebP or AVIF image": what the codec decodes. */
  accepted: string;
  slots: UploadSlots;
}

/** The volume: ready once its directories are made and what a crash left half-done is removed. */
function volume(config: ImageserverConfig, logger: Logger): Dependency<ImageStore> {
  return {
    async connect() {
      const store = new ImageStore(config.IMAGES_DIR);
      const leftovers = await store.open();
      if (leftovers > 0) logger.warn({ leftovers }, 'removed half-written or half-deleted images left by a crash');
      return store;
    },
    check: (store) => store.checkWritable(),
  };
}

const isUpload = (request: FastifyRequest) => request.method === 'POST' && request.routeOptions.url === '/images';

/**
 * The common errors (an OIDC issuer out of reach is a 503); every refused upload is counted once,
 * the handler's and Fastify's (over MAX_UPLOAD_BYTES, a type it does not read).
 */
function uploadErrors(metrics: ImageserverMetrics): JsonErrorOptions {
  return {
    dependencyErrors: OIDC_DEPENDENCY_ERRORS,
    notFoundListsRoutes: true,
    acceptedContentTypes: `one of ${UPLOAD_TYPES.join(', ')}`,
    onRefused(request, error) {
      if (isUpload(request)) metrics.uploads.inc({ outcome: error.status === 413 || error instanceof TooManyPixels ? 'too_large' : 'invalid' });
    },
    onUnavailable(request, error) {
      if (isUpload(request) && error.code === 'busy') metrics.uploads.inc({ outcome: 'busy' });
    },
  };
}

function imageRoutes(http: FastifyInstance, { config, registry }: ServiceContext<ImageserverConfig>, running: () => RunningImageserver): void {
  const metrics = imageserverMetrics(registry);
  // Only the upload types are read (Fastify's JSON and text parsers go): any other is a 415 before the handler.
  http.removeAllContentTypeParsers();
  http.addContentTypeParser(UPLOAD_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const imageId = (params: unknown): string => {
    const { id } = params as { id: string };
    if (!UUID_V7.test(id)) throw invalid(400, 'invalid_request', 'id', 'must be an image id (a lower-case UUIDv7, as POST /images answers)');
    return id;
  };
  const found = async (id: string): Promise<ImageRecord> => {
    const record = await running().store.get(id);
    if (record === undefined) throw invalid(404, 'not_found', 'id', 'no image has this id');
    return record;
  };
  // Checked before the body is read: a request without a valid token is not worth 10 MB of memory.
  const users = new WeakMap<FastifyRequest, string>();
  const oidc = oidcVerifierFrom(config);
  const requireUser = async (request: FastifyRequest, reply: FastifyReply) => {
    const userId = await authenticate(request, reply, config.JWT_SECRET, oidc);
    if (userId === undefined) return reply;
    users.set(request, userId);
  };

  http.post('/images', { bodyLimit: config.MAX_UPLOAD_BYTES, onRequest: requireUser }, async (request, reply) => {
    const { store, codec, accepted, slots } = running();
    const ownerId = users.get(request)!;
    // No content type and no body: nothing the parsers saw.
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    // No image library sees the bytes before they are known to be of a format it decodes.
    const format = sniffFormat(body);
    if (format === undefined) throw invalid(400, 'invalid_image', 'body', `must be ${accepted}`);
    if (!codec.decodes.includes(format)) throw invalid(415, 'unsupported_media_type', 'body', `must be ${accepted}: ${FORMAT_NAMES[format]} cannot be decoded here`);
    const undecodable = (err: unknown): never => {
      throw invalid(400, 'invalid_image', 'body', `could not be decoded as ${format}: ${firstAndLastLine(err instanceof Error ? err.message : String(err))}`);
    };
    const header = await codec.probe(body, format).catch(undecodable);
    if (header.width * header.height > config.MAX_PIXELS) {
      throw new TooManyPixels(400, 'invalid_image', [{ field: 'body', rule: `must be at most ${config.MAX_PIXELS} pixels (this one is ${header.width}×${header.height})` }]);
    }

    const slot = slots.take();
    if (slot === undefined) throw new ApiError(503, 'busy', [], { message: 'too many uploads are being processed: nothing was stored, retry later', retryAfterS: 1 });
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
      await store.save(record, variants).catch((err: unknown) => {
        metrics.uploads.inc({ outcome: 'failed' });
        throw err;
      });
      metrics.uploads.inc({ outcome: 'stored' });
      request.log.info({ id: record.id, ownerId, format, width: header.width, height: header.height, bytes: body.length, codec: codec.name }, 'image stored');
      return reply.code(201).header('location', `/images/${record.id}`).send(describe(record));
    } finally {
      release();
    }
  });

  http.get('/images/:id', async (request) => describe(await found(imageId(request.params))));

  http.get('/images/:id/:variant', async (request, reply) => {
    const { store } = running();
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
    if (await running().store.delete(id)) {
      metrics.deleted.inc();
      request.log.info({ id, ownerId: userId }, 'image deleted');
    }
    return reply.code(204).send();
  });
}

export const imageserver = defineService({
  name: 'imageserver',
  config: imageserverConfigSpec,
  checkConfig: checkOidcConfig,
  errors: ({ registry }) => uploadErrors(imageserverMetrics(registry)),
  dependencies: ({ config, logger }) => ({ volume: volume(config, logger) }),
  async start({ config }, { volume: store }): Promise<RunningImageserver> {
    const codec = await loadCodec(config);
    return { store, codec, accepted: formatList(codec.decodes), slots: new UploadSlots(config.PROCESSING_CONCURRENCY, config.MAX_WAITING_UPLOADS) };
  },
  routes: imageRoutes,
});
