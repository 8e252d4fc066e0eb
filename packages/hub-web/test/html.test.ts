import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {escapeHtml, html} from '../src/html.js';

describe('html templates', () => {
  it('escapes every interpolated text, in content and in attributes', () => {
    const label = `<script>alert("x")</script>' onload='x`;
    expect(html`<p title="${label}">${label}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;x">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;x</p>',
    );
  });

  it('inserts markup only from html itself, and escapes the items of a list', () => {
    const item = html`<li>${'a&b'}</li>`;
    const list = html`<ul>
      ${[item, '<li>raw</li>']}
    </ul>`;
    expect(list.text.replace(/\s+/g, '')).toBe('<ul><li>a&amp;b</li>&lt;li&gt;raw&lt;/li&gt;</ul>');
  });

  it('leaves out undefined, null and false; numbers and true are text', () => {
    expect(html`${undefined}${null}${false}${0}${true}`.text).toBe('0true');
  });

  it('an object that only looks like markup is text', () => {
    const forged = {text: '<b>x</b>'} as unknown as string;
    expect(html`${forged}`.text).toBe('[object Object]');
  });

  it('no text, whatever it holds, leaves a character that starts markup or ends an attribute', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(escapeHtml(text)).not.toMatch(/[<>"']/);
        expect(escapeHtml(text).replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
      }),
    );
  });
});
