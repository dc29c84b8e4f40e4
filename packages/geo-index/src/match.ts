/** A listing of the other kind that matches, and how far away it is. */
export interface Match {
  id: string;
  distanceM: number;
}
