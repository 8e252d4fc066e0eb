/**
 * HTML built with a tagged template that escapes every interpolation: remote text (tag names,
 * labels, annotations) can only ever become text. A value is inserted as markup only when it is
 * itself the result of `html`, so markup is made in templates and nowhere else.
 */

const MARKUP = Symbol('markup');

export interface Html {
  readonly [MARKUP]: true;
  readonly text: string;
}

type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

const ENTITIES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}

const isHtml = (value: unknown): value is Html => typeof value === 'object' && value !== null && MARKUP in value;

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (isHtml(value)) return value.text;
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let text = strings[0]!;
  values.forEach((value, index) => {
    text += render(value) + strings[index + 1]!;
  });
  return {[MARKUP]: true, text};
}
