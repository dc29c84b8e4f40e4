import { describe, expect, it } from 'vitest';
import { createdAt, formatAge, formatDistance, haversineM, parsePlace } from '../web/lib/format.ts';

describe('what the pages show', () => {
  it('distances in metres below 1 km, then in km with one decimal below 10 km', () => {
    expect(formatDistance(0)).toBe('0 m');
    expect(formatDistance(412)).toBe('410 m');
    expect(formatDistance(1250)).toBe('1.3 km');
    expect(formatDistance(5000)).toBe('5 km');
    expect(formatDistance(25_000)).toBe('25 km');
  });

  it("a listing's age from its UUIDv7 id", () => {
    const made = createdAt('0197b2c4-5f1d-7000-8000-1a2b3c4d5e6f')!;
    expect(made.toISOString()).toBe('2025-06-27T19:01:43.325Z');
    expect(formatAge(made, made.getTime() + 30_000)).toBe('just now');
    expect(formatAge(made, made.getTime() + 5 * 60_000)).toBe('5 min ago');
    expect(formatAge(made, made.getTime() + 3 * 3_600_000)).toBe('3 h ago');
    expect(formatAge(made, made.getTime() + 72 * 3_600_000)).toBe('3 days ago');
    expect(createdAt('not-an-id')).toBeUndefined();
  });

  it('a typed place: a known city or "lat, lng"; nothing else', () => {
    expect(parsePlace(' Berlin ')).toEqual({ lat: 52.52, lng: 13.405 });
    expect(parsePlace('52.52, 13.405')).toEqual({ lat: 52.52, lng: 13.405 });
    expect(parsePlace('-33.9 151.2')).toEqual({ lat: -33.9, lng: 151.2 });
    expect(parsePlace('91, 0')).toBeUndefined();
    expect(parsePlace('Atlantis')).toBeUndefined();
    expect(parsePlace('')).toBeUndefined();
  });

  it('haversine distances (1° of latitude is about 111.2 km)', () => {
    expect(haversineM({ lat: 52, lng: 13 }, { lat: 53, lng: 13 })).toBeCloseTo(111_195, -1);
    expect(haversineM({ lat: 52.52, lng: 13.405 }, { lat: 52.52, lng: 13.405 })).toBe(0);
  });
});
