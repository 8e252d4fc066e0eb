/**
 * Text from elsewhere (a registry's discovery document, a provider's error, the engine's stream,
 * a catalog) made safe to show on a terminal. An escape sequence in it could recolour, move the
 * cursor, rewrite what hub printed before (the issuer shown before sign-in), set the window title
 * or a clipboard (OSC 52), and bidi overrides reorder what the eye reads. Newlines and tabs stay:
 * messages span lines.
 */

/** OSC (title, clipboard, hyperlinks …) up to its terminator, BEL or ST, in 7- or 8-bit form. */
const OSC = /(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)/g;
/** CSI (colours, cursor moves, erasing), in 7- or 8-bit form. */
const CSI = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]/g;
/** Any other escape sequence: ESC, intermediate bytes, one final byte. */
const OTHER_ESCAPE = /\x1b[ -/]*[0-~]/g;
/** What is left: C0 but tab and newline, DEL, C1, and the bidi embeddings, overrides and isolates. */
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(OSC, '').replace(CSI, '').replace(OTHER_ESCAPE, '').replace(CONTROLS, '');
}
