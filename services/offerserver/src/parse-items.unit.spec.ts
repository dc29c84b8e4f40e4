import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fetchUrlOf, parseItems, ParseError, readPath } from './parse-items.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const baseUrl = 'https://feeds.example/';

describe('parseItems', () => {
  it('reads RSS 2.0 with georss and W3C geo points, GUIDs, links and image enclosures', () => {
    const items = parseItems('feed', fixture('rss-georss.xml'), { baseUrl });
    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ guid: 'kiez-101', url: 'https://kiez.example/angebote/101', title: 'Kinderfahrrad 20 Zoll, blau', lat: 52.5005, lng: 13.419, image: 'https://kiez.example/img/101.jpg' });
    expect(items[0]!.description).toContain('Licht funktioniert');
    expect(items[1]).toMatchObject({ guid: 'kiez-102', lat: 52.4987, lng: 13.4034 });
    expect(items[2]!.lat).toBeUndefined();
  });

  it('reads Atom entries with their ids and georss points', () => {
    const items = parseItems('feed', fixture('atom.xml'), { baseUrl });
    expect(items.map((i) => i.guid)).toEqual(['urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a', 'urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6b']);
    expect(items[0]).toMatchObject({ title: 'Nähmaschine Singer, läuft', url: 'https://repair.example/teile/naehmaschine', lat: 52.4811, lng: 13.4354 });
  });

  it('reads JSON Feed 1.1 with `_geo`', () => {
    const items = parseItems('feed', fixture('jsonfeed.json'), { baseUrl });
    expect(items[0]).toMatchObject({ guid: 'tausch-7', url: 'https://tausch.example/items/7', title: 'Kaffeemaschine', lat: 52.5389, lng: 13.4244, image: 'https://tausch.example/img/7.jpg' });
    expect(items[1]).toMatchObject({ guid: 'tausch-8', title: 'Winterjacke Gr. 128' });
  });

  it('reads a Lemmy post list: ap_id as GUID, the link or the post as URL', () => {
    const items = parseItems('lemmy', fixture('lemmy.json'), { baseUrl });
    expect(items).toEqual([
      { guid: 'https://lemmy.example/post/4411', url: 'https://lemmy.example/post/4411', title: '[Offer] Free moving boxes, about 20', description: 'Pick up near Boxhagener Platz this week.' },
      { guid: 'https://lemmy.example/post/4410', url: 'https://pics.example/monstera', title: '[Offer] Monstera cuttings', description: 'Three rooted cuttings.', image: 'https://pics.example/monstera-thumb.jpg' },
    ]);
  });

  it('reads any JSON through a mapping of paths', () => {
    const mapping = { items: '$.data.results[*]', id: 'ref', title: 'headline', description: 'text', price: 'cost.amount', lat: 'position.latitude', lng: 'position.longitude', url: 'link', image: 'photos[0].src' };
    const items = parseItems('json', fixture('mapped.json'), { baseUrl, mapping });
    expect(items[0]).toEqual({ guid: 'A-17', title: 'Bohrmaschine leihen', description: 'Mit Koffer und Bits.', price: '5', lat: 52.5163, lng: 13.3777, url: 'https://verleih.example/a17', image: 'https://verleih.example/a17.jpg' });
    expect(items[1]!.image).toBeUndefined();
  });

  it('refuses malformed XML, a non-feed and a mapping that finds no array, naming why', () => {
    expect(() => parseItems('feed', '<rss><channel><item><title>x</item></channel>', { baseUrl })).toThrow(ParseError);
    expect(() => parseItems('feed', '<html><body>hi</body></html>', { baseUrl })).toThrow(/not a feed/);
    expect(() => parseItems('json', '{"data":{}}', { baseUrl, mapping: { items: 'data.results', title: 'x' } })).toThrow(/not an array/);
    expect(() => parseItems('lemmy', 'nope', { baseUrl })).toThrow(/not JSON/);
  });
});

describe('readPath', () => {
  it('follows dots, indexes and quoted keys', () => {
    const doc = { a: { 'b c': [{ d: 1 }, { d: 2 }] } };
    expect(readPath(doc, "$.a['b c'][1].d")).toBe(2);
    expect(readPath(doc, 'a.b c.0.d')).toBe(1);
    expect(readPath(doc, 'a.x.y')).toBeUndefined();
  });
});

describe('fetchUrlOf', () => {
  it('turns a Lemmy community into its newest posts', () => {
    expect(fetchUrlOf('lemmy', 'https://lemmy.example/c/berlin_giveaway', 200)).toBe('https://lemmy.example/api/v3/post/list?community_name=berlin_giveaway&sort=New&limit=50');
    expect(() => fetchUrlOf('lemmy', 'https://lemmy.example/u/anna', 200)).toThrow(/community/);
    expect(fetchUrlOf('feed', 'https://x.example/rss', 200)).toBe('https://x.example/rss');
  });
});
