const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** A size as people read it (decimal units, as docker prints them), with the exact bytes where it was rounded. */
export function bytes(size: number): string {
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${size} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]} (${size} bytes)`;
}

/** A time as the config says it, in UTC to the second; what it is when it is not a time. */
export function time(value: string | undefined): string {
  if (value === undefined) return 'unknown';
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? value : `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A moment in seconds since the epoch, as `time` shows one. */
export const moment = (seconds: number): string => time(new Date(seconds * 1000).toISOString());

/** " by ACCOUNT" of an event, or nothing when the registry named nobody. */
export const byWhom = (event: {by: string | undefined}): string => (event.by === undefined ? '' : ` by ${event.by}`);
