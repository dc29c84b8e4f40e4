/**
 * Which positions are worth sending, as the mover coalesces them: a position within
 * `minDistanceM` of the last one sent is skipped (the backend already has it, near enough); a
 * farther one is sent at once unless the last one went out less than `minIntervalMs` ago, in
 * which case it waits for the interval, replaced by any newer one meanwhile, so the position
 * the phone stopped at always goes out.
 */

export interface Position {
  lng: number;
  lat: number;
  /** Metres (the radius of 68 % confidence, as phones report it). */
  accuracy?: number;
}

export interface LocationThresholds {
  /** Default 25 m (the mover's MIN_MOVE_M). */
  minDistanceM?: number;
  /** Default 1,000 ms (the mover's interval). */
  minIntervalMs?: number;
}

/** Great-circle distance in metres. */
export function distanceM(a: Position, b: Position): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h));
}

/**
 * `send(position, at)` is called for each position that passes; `offer` answers whether it went
 * out at once (a held one goes out later from a timer).
 */
export function locationFilter(thresholds: LocationThresholds, send: (position: Position, at: number) => void): {
  offer(position: Position): boolean;
  stop(): void;
} {
  const minDistanceM = thresholds.minDistanceM ?? 25;
  const minIntervalMs = thresholds.minIntervalMs ?? 1_000;
  let last: (Position & { at: number }) | undefined;
  let held: { position: Position; at: number } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const emit = (position: Position, at: number) => {
    last = { ...position, at };
    held = undefined;
    send(position, at);
  };

  return {
    offer(position: Position): boolean {
      const now = Date.now();
      if (last && distanceM(last, position) < minDistanceM) {
        held = undefined; // back near the last one sent: a farther position still waiting is stale
        return false;
      }
      if (!last || now - last.at >= minIntervalMs) {
        emit(position, now);
        return true;
      }
      held = { position, at: now };
      timer ??= setTimeout(() => {
        timer = undefined;
        if (held) emit(held.position, held.at);
      }, last.at + minIntervalMs - now);
      return false;
    },
    stop() {
      clearTimeout(timer);
    },
  };
}
