/**
 * The map: Leaflet with the tiles the site is configured with (`MAP_TILES_URL`), or, with none,
 * the offline basemap the site ships (Natural Earth countries, 1:50m) so that markers, radius
 * and the scale bar are right with no tile server at all.
 */
import 'leaflet/dist/leaflet.css';
import * as L from 'leaflet';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import type { Point } from './format.ts';

function setting(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="pushtech:${name}"]`)?.content ?? '';
}

let basemap: Promise<GeoJSON.FeatureCollection> | undefined;

function loadBasemap(): Promise<GeoJSON.FeatureCollection> {
  basemap ??= fetch('/assets/countries-50m.json')
    .then((response) => response.json() as Promise<Topology<{ countries: GeometryCollection }>>)
    .then((topology) => feature(topology, topology.objects.countries) as GeoJSON.FeatureCollection);
  return basemap;
}

export function createMap(element: HTMLElement, center: Point | undefined, zoom = 13): L.Map {
  const map = L.map(element, { center: center ?? { lat: 50, lng: 10 }, zoom: center === undefined ? 4 : zoom, worldCopyJump: true });
  map.attributionControl.setPrefix('Leaflet');
  const tiles = setting('tiles');
  if (tiles !== '') {
    L.tileLayer(tiles, { attribution: setting('attribution'), maxZoom: 19 }).addTo(map);
  } else {
    element.classList.add('offline');
    map.attributionControl.addAttribution('Natural Earth');
    void loadBasemap().then((countries) => {
      L.geoJSON(countries, { style: { color: '#8a8f98', weight: 1, fillColor: '#f4f1ea', fillOpacity: 1 }, interactive: false }).addTo(map).bringToBack();
    });
  }
  L.control.scale({ imperial: false }).addTo(map);
  return map;
}

/** A listing's marker: a circle (no image files), its title as a tooltip built from text. */
export function listingMarker(point: Point, title: string, kind: 'offer' | 'search', className = 'listing-marker'): L.CircleMarker {
  const marker = L.circleMarker(point, { radius: 8, weight: 2, color: '#fff', fillColor: kind === 'offer' ? '#1f6feb' : '#b35900', fillOpacity: 0.95, className, bubblingMouseEvents: false });
  const label = document.createElement('span');
  label.textContent = title;
  marker.bindTooltip(label, { direction: 'top', offset: [0, -8] });
  return marker;
}

export { L };
