/**
 * A value from outside (a request parameter, a header, a claim, a provider's or registry's own
 * words) as an error or a log line passes it on. Cut to a length that is enough to recognise it:
 * whoever can send a request must not be able to make each answer and each log line as long as
 * the request itself.
 */

/** How many characters of a value a message quotes. */
export const QUOTED_LENGTH = 100;
/** How many characters of another party's own sentence (an error description) a message passes on. */
export const PASSED_ON_LENGTH = 300;

/** The value as JSON (a text in quotes), cut after `length` characters and marked as cut. */
export function quoted(value: unknown, length = QUOTED_LENGTH): string {
  if (typeof value !== 'string') return passedOn(JSON.stringify(value) ?? String(value), length);
  const kept = cutAt(value, length);
  return kept === value ? JSON.stringify(value) : `${JSON.stringify(kept)}… (${value.length - kept.length} more characters cut)`;
}

/** Another party's words, cut after `length` characters and marked as cut. */
export function passedOn(text: string, length = PASSED_ON_LENGTH): string {
  const kept = cutAt(text, length);
  return kept === text ? text : `${kept}… (${text.length - kept.length} more characters cut)`;
}

/** The first `length` UTF-16 units, without splitting a surrogate pair. */
function cutAt(text: string, length: number): string {
  if (text.length <= length) return text;
  const end = /[\ud800-\udbff]/.test(text[length - 1] ?? '') ? length - 1 : length;
  return text.slice(0, end);
}
