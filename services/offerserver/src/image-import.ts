/**
 * Items' images, through the imageserver's upload path: the image is fetched with the
 * fetcher's limits (SSRF guard, size, time, redirects) and the same politeness as a source
 * (the host's Retry-After and rate, robots.txt; a 429/503 with Retry-After holds the host), then `POST /images` with a token of
 * the source (`source:<id>`, the listings' owner), exactly as an app uploads a photo. An image
 * that cannot be had is logged and counted; the item becomes a listing without it (and is tried
 * again on the next fetch; so is one whose host must wait).
 */
import { signToken } from '@pushtech/auth';
import type { Logger } from '@pushtech/logging';
import { Counter, type Registry } from 'prom-client';
import { fetchUrl, FetchError, type FetchOptions } from './fetcher.ts';
import type { Politeness } from './politeness.ts';
import { ownerIdOf } from './sync-items.ts';

export interface ImageImporter {
  /** The imageserver's id of the image at `url`, or undefined when it cannot be imported now. */
  import(sourceId: string, url: string): Promise<string | undefined>;
}

export function createImageImporter(options: {
  imageserverUrl: string;
  jwtSecret: string;
  fetch: Omit<FetchOptions, 'headers'>;
  politeness: Politeness;
  logger: Logger;
  registry: Registry;
}): ImageImporter {
  const images = new Counter({
    name: 'offerserver_images_total',
    help: 'Items\' images by outcome (stored, deferred: the host must wait, robots_disallowed, fetch_failed, refused: the imageserver answered 4xx, upload_failed).',
    labelNames: ['outcome'] as const,
    registers: [options.registry],
  });
  const base = options.imageserverUrl.replace(/\/+$/, '');
  return {
    async import(sourceId, url) {
      let body: Buffer;
      try {
        const permission = await options.politeness.permit(url);
        if (permission.verdict !== 'go') {
          images.inc({ outcome: permission.verdict === 'wait' ? 'deferred' : 'robots_disallowed' });
          options.logger.info({ sourceId, url, verdict: permission.verdict }, 'item image not fetched now');
          return undefined;
        }
        const response = await fetchUrl(url, { ...options.fetch, headers: { accept: 'image/*' } });
        await options.politeness.answered(url, response);
        if (response.status < 200 || response.status > 299) throw new FetchError('network', `answered ${response.status}`);
        body = response.body;
      } catch (err) {
        images.inc({ outcome: 'fetch_failed' });
        options.logger.info({ sourceId, url, err: (err as Error).message }, 'item image not fetched');
        return undefined;
      }
      try {
        const token = await signToken(ownerIdOf(sourceId), options.jwtSecret, { expiresIn: '5m' });
        const response = await fetch(`${base}/images`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
          body: new Uint8Array(body),
          signal: AbortSignal.timeout(options.fetch.timeoutMs),
        });
        if (response.status === 201) {
          images.inc({ outcome: 'stored' });
          return ((await response.json()) as { id: string }).id;
        }
        images.inc({ outcome: response.status < 500 ? 'refused' : 'upload_failed' });
        options.logger.info({ sourceId, url, status: response.status, answer: (await response.text()).slice(0, 300) }, 'item image not stored');
        return undefined;
      } catch (err) {
        images.inc({ outcome: 'upload_failed' });
        options.logger.warn({ sourceId, url, err: (err as Error).message }, 'imageserver unreachable: item image not stored');
        return undefined;
      }
    },
  };
}
