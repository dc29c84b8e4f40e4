/**
 * Web Push without a third party: the notifier POSTs to the browser's push
 * service itself (RFC 8030), the payload encrypted for the browser (RFC 8291,
 * `aes128gcm` of RFC 8188, one record) and the call signed with the
 * application server's VAPID key (RFC 8292, an ES256 JWT).
 *
 * Written on node:crypto (ECDH, HKDF, AES-128-GCM, ECDSA): about a hundred
 * lines, no dependency, and the call goes through `fetch` like OneSignal's, so
 * every header (Retry-After), the timeout and "no redirects" are ours. The
 * `web-push` package would do the same, but sends with its own https client.
 */
import { createCipheriv, createECDH, createPrivateKey, hkdfSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { PushRequest, WebPushSubscription } from '@pushtech/contracts';
import { errorMessage } from './onesignal.ts';
import type { Answer } from './outcome.ts';

export interface VapidKeys {
  /** base64url of the uncompressed P-256 public key (65 bytes): the browser's `applicationServerKey`. */
  publicKey: string;
  /** base64url of the private scalar (32 bytes). */
  privateKey: string;
}

export interface Vapid extends VapidKeys {
  /** `mailto:` or `https:` contact of the operator (the JWT's `sub`). */
  subject: string;
}

/** A new VAPID key pair (`npm run vapid-keys`). */
export function generateVapidKeys(): VapidKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { publicKey: ecdh.getPublicKey('base64url'), privateKey: ecdh.getPrivateKey('base64url') };
}

/** The private key as a KeyObject; throws when the two keys are not a P-256 pair. */
export function vapidSigningKey({ publicKey, privateKey }: VapidKeys): KeyObject {
  const pub = Buffer.from(publicKey, 'base64url');
  if (pub.length !== 65 || pub[0] !== 4) throw new Error('VAPID_PUBLIC_KEY must be base64url of an uncompressed P-256 point (65 bytes)');
  const d = Buffer.from(privateKey, 'base64url');
  if (d.length !== 32) throw new Error('VAPID_PRIVATE_KEY must be base64url of 32 bytes');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  if (!ecdh.getPublicKey().equals(pub)) throw new Error('VAPID_PRIVATE_KEY does not belong to VAPID_PUBLIC_KEY');
  return createPrivateKey({
    format: 'jwk',
    key: { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33).toString('base64url') },
  });
}

/** How long a VAPID JWT is valid (RFC 8292: at most 24 hours). */
const JWT_LIFETIME_S = 12 * 3600;

/** `Authorization: vapid t=<JWT>, k=<public key>` for a call to `endpoint`: aud = its origin. */
export function vapidAuthorization(endpoint: string, vapid: Vapid, key: KeyObject, nowS = Math.floor(Date.now() / 1000)): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ typ: 'JWT', alg: 'ES256' })}.${part({ aud: new URL(endpoint).origin, exp: nowS + JWT_LIFETIME_S, sub: vapid.subject })}`;
  const signature = sign('sha256', Buffer.from(unsigned), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `vapid t=${unsigned}.${signature}, k=${vapid.publicKey}`;
}

/** The record size announced in the header; one record holds the whole payload. */
const RECORD_SIZE = 4096;
/** Header (16 salt + 4 rs + 1 idlen + 65 key) + padding delimiter + GCM tag. */
const OVERHEAD = 86 + 1 + 16;
/** Push services take at least 4,096 bytes of body (RFC 8030 §7.2). */
export const MAX_PAYLOAD_BYTES = RECORD_SIZE - OVERHEAD;

/** RFC 8291 §3.4 / RFC 8188: `payload` encrypted for the browser whose keys are `keys`, as the body of the push. */
export function encryptPayload(payload: Buffer, keys: WebPushSubscription['keys']): Buffer {
  if (payload.length > MAX_PAYLOAD_BYTES) throw new Error(`payload of ${payload.length} bytes is over ${MAX_PAYLOAD_BYTES}`);
  const uaPublic = Buffer.from(keys.p256dh, 'base64url');
  const authSecret = Buffer.from(keys.auth, 'base64url');
  const ephemeral = createECDH('prime256v1');
  const asPublic = ephemeral.generateKeys();
  const ecdhSecret = ephemeral.computeSecret(uaPublic);
  const salt = randomBytes(16);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const cipher = createCipheriv('aes-128-gcm', cek, nonce);
  // The last (only) record: the payload, then the delimiter 0x02, no padding.
  const encrypted = Buffer.concat([cipher.update(payload), cipher.update(Buffer.from([2])), cipher.final(), cipher.getAuthTag()]);
  const header = Buffer.alloc(21);
  salt.copy(header, 0);
  header.writeUInt32BE(RECORD_SIZE, 16);
  header.writeUInt8(asPublic.length, 20);
  return Buffer.concat([header, asPublic, encrypted]);
}

/**
 * What the service worker gets (`event.data.json()`): the texts, the
 * producer's `data`, and from it `listingId` and `url` when they are strings
 * (what to open on click).
 */
export interface WebPushPayload {
  title: string;
  body: string;
  listingId: string | null;
  url: string | null;
  data: Record<string, unknown>;
}

/** A localized text in English, else its first language. */
const text = (value: string | Record<string, string> | undefined) =>
  value === undefined ? '' : typeof value === 'string' ? value : (value.en ?? Object.values(value)[0] ?? '');

export function webPushPayload(request: PushRequest): WebPushPayload {
  const data = request.args.data ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return { title: text(request.args.heading), body: text(request.args.content), listingId: str(data.listingId), url: str(data.url), data };
}

/**
 * The payload as JSON bytes within `MAX_PAYLOAD_BYTES` (texts of 4,000 characters and 2 KiB of
 * data can be more): over it, `data` is left out (`listingId` and `url` stay), then the body is
 * shortened, ending in "…".
 */
export function payloadBytes(payload: WebPushPayload, max = MAX_PAYLOAD_BYTES): Buffer {
  let fitted = payload;
  let bytes = Buffer.from(JSON.stringify(fitted));
  if (bytes.length > max) fitted = { ...fitted, data: {} };
  for (let bodyChars = fitted.body.length; (bytes = Buffer.from(JSON.stringify(fitted))).length > max && bodyChars > 0;) {
    bodyChars = Math.floor(bodyChars * 0.8);
    fitted = { ...fitted, body: `${payload.body.slice(0, bodyChars)}…`, title: fitted.title.slice(0, Math.max(bodyChars, 100)) };
  }
  return bytes;
}

export const URGENCIES = ['very-low', 'low', 'normal', 'high'] as const;
export type Urgency = (typeof URGENCIES)[number];

export interface WebPushSenderOptions {
  vapid: Vapid;
  /** Seconds the push service keeps an undelivered message (`TTL`). */
  ttlS: number;
  urgency: Urgency;
  timeoutMs: number;
}

export interface WebPushSender {
  send(subscription: WebPushSubscription, payload: WebPushPayload): Promise<Answer>;
}

export function createWebPushSender(options: WebPushSenderOptions): WebPushSender {
  const key = vapidSigningKey(options.vapid);
  return {
    async send(subscription, payload) {
      let body: Buffer;
      try {
        body = encryptPayload(payloadBytes(payload), subscription.keys);
      } catch (err) {
        // A p256dh that is not a point of the curve: retried like no answer, until the retries give up.
        return { kind: 'error', message: `not encrypted: ${errorMessage(err)}` };
      }
      try {
        const res = await fetch(subscription.endpoint, {
          method: 'POST',
          headers: {
            authorization: vapidAuthorization(subscription.endpoint, options.vapid, key),
            'content-encoding': 'aes128gcm',
            'content-type': 'application/octet-stream',
            ttl: String(options.ttlS),
            urgency: options.urgency,
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        const text = await res.text();
        const retryAfter = res.headers.get('retry-after') ?? undefined;
        return { kind: 'http', status: res.status, text, ...(retryAfter === undefined ? {} : { retryAfter }) };
      } catch (err) {
        return { kind: 'error', message: errorMessage(err) };
      }
    },
  };
}
