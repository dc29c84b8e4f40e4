import { describe, expect, it } from 'vitest';
import { pushBrowser, verifyVapid } from './fixtures/push-browser.ts';
import type { PushRequest } from '@pushtech/contracts';
import { encryptPayload, generateVapidKeys, MAX_PAYLOAD_BYTES, payloadBytes, vapidAuthorization, vapidSigningKey, webPushPayload } from './web-push.ts';

const keys = generateVapidKeys();
const vapid = { ...keys, subject: 'mailto:ops@example.net' };
const pushRequest = (args: PushRequest['args']): PushRequest => ({ type: 'push', uuid: '0197a1f2-3c4d-7e5f-8a9b-0c1d2e3f4a5b', versionUtcSeconds: 1, args });

describe('web push (RFC 8291 + RFC 8292 on node:crypto)', () => {
  it('http_ece decrypts what encryptPayload made for the browser; another browser cannot', () => {
    const browser = pushBrowser();
    const { keys: subKeys } = browser.subscription('https://push.example.net/s/1');
    const body = encryptPayload(Buffer.from('{"title":"Bike nearby"}'), subKeys);
    expect(body.readUInt32BE(16)).toBe(4096); // rs
    expect(body[20]).toBe(65); // idlen: the sender's public key follows
    expect(browser.decrypt(body).toString()).toBe('{"title":"Bike nearby"}');
    expect(() => pushBrowser().decrypt(body)).toThrow();
    // A fresh salt and key each time: the same text never gives the same body.
    expect(encryptPayload(Buffer.from('x'), subKeys).equals(encryptPayload(Buffer.from('x'), subKeys))).toBe(false);
  });

  it('the VAPID JWT verifies with the public key; aud is the endpoint origin, exp within 24 h, sub the subject', () => {
    const now = 1_764_000_000;
    const claims = verifyVapid(vapidAuthorization('https://push.example.net:8443/wpush/v2/abc?x=1', vapid, vapidSigningKey(vapid), now));
    expect(claims).toEqual({ aud: 'https://push.example.net:8443', exp: now + 12 * 3600, sub: 'mailto:ops@example.net', publicKey: keys.publicKey });
    const other = { ...generateVapidKeys(), subject: vapid.subject };
    const forged = vapidAuthorization('https://push.example.net/x', other, vapidSigningKey(other)).replace(other.publicKey, keys.publicKey);
    expect(() => verifyVapid(forged)).toThrow(/does not verify/);
  });

  it('keys that are not a pair, or not P-256, are refused', () => {
    expect(() => vapidSigningKey({ publicKey: generateVapidKeys().publicKey, privateKey: keys.privateKey })).toThrow(/does not belong/);
    expect(() => vapidSigningKey({ publicKey: keys.publicKey.slice(2), privateKey: keys.privateKey })).toThrow(/65 bytes/);
    expect(() => vapidSigningKey({ publicKey: keys.publicKey, privateKey: 'abcd' })).toThrow(/32 bytes/);
  });

  it('the payload: title, body, data, and listingId / url taken from data', () => {
    const request = pushRequest({ userIds: ['u'], heading: { de: 'Fahrrad', en: 'Bike' }, content: 'near', data: { listingId: 'l-1', pair: 'p' } });
    expect(webPushPayload(request)).toEqual({ title: 'Bike', body: 'near', listingId: 'l-1', url: null, data: { listingId: 'l-1', pair: 'p' } });
    expect(webPushPayload(pushRequest({ userIds: ['u'], content: 'x', data: { url: '/listings/9' } }))).toMatchObject({ title: '', url: '/listings/9', listingId: null });
  });

  it('a payload over the limit loses its data, then the body is shortened; it always fits', () => {
    const big = { title: 'T', body: 'é'.repeat(4000), listingId: 'l-1', url: null, data: { blob: 'x'.repeat(2000) } };
    const bytes = payloadBytes(big);
    expect(bytes.length).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const fitted = JSON.parse(bytes.toString());
    expect(fitted).toMatchObject({ title: 'T', listingId: 'l-1', data: {} });
    expect(fitted.body).toMatch(/^é+…$/);
    const small = { ...big, body: 'b', data: { a: 1 } };
    expect(JSON.parse(payloadBytes(small).toString())).toEqual(small);
  });
});
