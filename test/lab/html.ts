import { type DefaultTreeAdapterTypes, type ParserError, parse } from 'parse5';
import { expect } from 'vitest';
import type { Check, Verdict } from '../../src/lab/results.js';

export type Element = DefaultTreeAdapterTypes.Element;
type Node = DefaultTreeAdapterTypes.Node;

/** Parses with parse5 and fails on any HTML parse error (the page must be well-formed HTML). */
export function parseHtml(html: string) {
  const errors: ParserError[] = [];
  const document = parse(html, { onParseError: (error) => errors.push(error) });
  expect(errors.map((e) => `${e.code} at ${e.startLine}:${e.startCol}`)).toEqual([]);
  return document;
}

export function elements(node: Node, out: Element[] = []): Element[] {
  if ('tagName' in node) out.push(node);
  const children =
    'content' in node && node.nodeName === 'template'
      ? node.content.childNodes
      : 'childNodes' in node
        ? node.childNodes
        : [];
  for (const child of children) elements(child, out);
  return out;
}

export const attr = (el: Element, name: string) => el.attrs.find((a) => a.name === name)?.value;

export function text(node: Node): string {
  if (node.nodeName === '#text') return (node as DefaultTreeAdapterTypes.TextNode).value;
  return 'childNodes' in node ? node.childNodes.map(text).join('') : '';
}

export const byTag = (root: Node, tag: string) => elements(root).filter((el) => el.tagName === tag);

export function byId(root: Node, id: string): Element {
  const found = elements(root).filter((el) => attr(el, 'id') === id);
  expect(found, `#${id}`).toHaveLength(1);
  return found[0] as Element;
}

/**
 * Checks that each verdict's chart on the report page carries the verdict's status, has a row per
 * check with the check's status, and draws each row's two bars where that status says they are:
 * read from the drawn extents, the bars say the same as the check.
 */
export function expectChartsAgree(document: Node, verdicts: readonly Verdict[]): void {
  const charts = byTag(byId(document, 'evidence'), 'svg');
  const charted = verdicts.filter((v) => v.checks.length > 0);
  expect(charts).toHaveLength(charted.length);
  charts.forEach((svg, i) => {
    const verdict = charted[i] as Verdict;
    expect(attr(svg, 'data-status')).toBe(verdict.status);
    expect(text(byTag(svg, 'title')[0] as Element)).toBe(`${verdict.aspect}: ${verdict.status}`);
    const rows = byTag(svg, 'g');
    const checks = [...verdict.checks.filter((c) => c.primary), ...verdict.checks.filter((c) => !c.primary)];
    expect(rows.map((g) => attr(g, 'data-status'))).toEqual(checks.map((c) => c.status));
    rows.forEach((g, j) => {
      const check = checks[j] as Check;
      const bars = byTag(g, 'rect').filter((r) => attr(r, 'data-side') !== undefined);
      expect(bars).toHaveLength(check.sides.filter((s) => s.interval !== null).length);
      expect(bars.length < 2 ? 'not shown' : drawnStatus(bars, check.better), check.label).toBe(check.status);
    });
  });
}

/**
 * What a check's two bars say, read from their drawn extent: the second side (claimed better)
 * clear of the first on the better side, clear on the worse side, or overlapping.
 */
function drawnStatus(bars: Element[], better: 'lower' | 'higher'): string {
  const [first, second] = bars.map((b) => ({ from: Number(attr(b, 'data-from')), to: Number(attr(b, 'data-to')) })) as [
    { from: number; to: number },
    { from: number; to: number },
  ];
  const [low, high] = better === 'lower' ? [second, first] : [first, second];
  if (low.to < high.from) return 'holds';
  if (high.to < low.from) return 'does not hold';
  return 'not shown';
}
