// The longest string a decoder read into a survey record, when it measured every one: the bounds check
// (bounds.ts) then knows that no string of the record is too long without walking its every field (~20 us per
// ZTF alert: a hundred candidate fields and sixty per history entry). A record without a measure is walked.
const LONGEST = new WeakMap<object, number>();

/** Records that no string read into `record` (the values, not map keys) is longer than `length`. */
export function setLongestString(record: object, length: number): void {
  LONGEST.set(record, length);
}

/** The bound set for `record`, or undefined when its decoder did not measure it. */
export function longestStringOf(record: object): number | undefined {
  return LONGEST.get(record);
}
