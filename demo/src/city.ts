// Simulated users walking around a city centre: each step moves a user a few
// metres and reports it as a `location` event; now and then a page view.

export interface SimulatedUser {
  userId: string;
  lng: number;
  lat: number;
  headingRad: number;
}

const METRES_PER_DEG_LAT = 111_320;

export function createUsers(count: number, centre: { lng: number; lat: number }, spreadM: number, random: () => number): SimulatedUser[] {
  return Array.from({ length: count }, (_, i) => {
    const r = spreadM * Math.sqrt(random());
    const angle = random() * 2 * Math.PI;
    return {
      userId: `demo-user-${i + 1}`,
      lat: centre.lat + (r * Math.cos(angle)) / METRES_PER_DEG_LAT,
      lng: centre.lng + (r * Math.sin(angle)) / (METRES_PER_DEG_LAT * Math.cos((centre.lat * Math.PI) / 180)),
      headingRad: random() * 2 * Math.PI,
    };
  });
}

/** Walks the user `stepM` metres, turning a little. */
export function walk(user: SimulatedUser, stepM: number, random: () => number): void {
  user.headingRad += (random() - 0.5) * 0.6;
  user.lat += (stepM * Math.cos(user.headingRad)) / METRES_PER_DEG_LAT;
  user.lng += (stepM * Math.sin(user.headingRad)) / (METRES_PER_DEG_LAT * Math.cos((user.lat * Math.PI) / 180));
}

const pages = ['/', '/search?q=bike', '/offers/new', '/listings/nearby', '/me'];

export function pageView(random: () => number): { path: string } {
  return { path: pages[Math.floor(random() * pages.length)]! };
}
