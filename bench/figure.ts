/** One measured figure of `npm run bench`, with the target when it sets one. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The target: at least `min`. */
  min?: number;
  /** The target: at most `max`. */
  max?: number;
}
