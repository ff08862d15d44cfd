import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { type DefaultTreeAdapterTypes, type ParserError, parse } from 'parse5';
import { afterEach, describe, expect, it } from 'vitest';
import {
  errorRate,
  formatMs,
  formatPercent,
  renderHtml,
  renderMarkdown,
  scriptJson,
  writeReport,
} from '../../src/lab/report.js';
import type { LabReport } from '../../src/lab/results.js';
import { sampleReport } from './fixture.js';

type Element = DefaultTreeAdapterTypes.Element;
type Node = DefaultTreeAdapterTypes.Node;

const ASPECTS = ['Latency (initial response)', 'Coupling', 'Failure isolation', 'Scalability'];

/** Parses with parse5 and fails on any HTML parse error (the page must be well-formed HTML). */
function parseHtml(html: string) {
  const errors: ParserError[] = [];
  const document = parse(html, { onParseError: (error) => errors.push(error) });
  expect(errors.map((e) => `${e.code} at ${e.startLine}:${e.startCol}`)).toEqual([]);
  return document;
}

function elements(node: Node, out: Element[] = []): Element[] {
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

const attr = (el: Element, name: string) => el.attrs.find((a) => a.name === name)?.value;

function text(node: Node): string {
  if (node.nodeName === '#text') return (node as DefaultTreeAdapterTypes.TextNode).value;
  return 'childNodes' in node ? node.childNodes.map(text).join('') : '';
}

const byTag = (root: Node, tag: string) => elements(root).filter((el) => el.tagName === tag);

function byId(root: Node, id: string): Element {
  const found = elements(root).filter((el) => attr(el, 'id') === id);
  expect(found, `#${id}`).toHaveLength(1);
  return found[0] as Element;
}

let directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.map((d) => rm(d, { recursive: true, force: true })));
  directories = [];
});

async function written(report: LabReport) {
  const directory = await mkdtemp(join(tmpdir(), 'lab-report-'));
  directories.push(directory);
  const paths = await writeReport(report, join(directory, 'out'));
  return {
    paths,
    markdown: await readFile(paths.markdown, 'utf8'),
    html: await readFile(paths.html, 'utf8'),
    json: await readFile(paths.json, 'utf8'),
  };
}

describe('writeReport', () => {
  it('writes the Markdown, HTML and JSON files, the JSON being the report itself', async () => {
    const report = sampleReport();
    const { paths, json } = await written(report);
    expect(paths.markdown).toMatch(/[/\\]out[/\\]lab-report\.md$/);
    expect(paths.html).toMatch(/[/\\]out[/\\]lab-report\.html$/);
    expect(paths.json).toMatch(/[/\\]out[/\\]lab-report\.json$/);
    for (const path of Object.values(paths)) await expect(access(path)).resolves.toBeUndefined();
    expect(JSON.parse(json)).toEqual(report);
    expect(report).toEqual(sampleReport()); // not mutated
  });
});

describe('renderMarkdown', () => {
  const report = sampleReport();
  const markdown = renderMarkdown(report);

  it('has a title with the date, the machine, the transport and links to the other files', () => {
    expect(markdown.split('\n')[0]).toBe('# Syncopate lab report — 2025-06-14');
    expect(markdown).toContain('2 CPUs (AMD EPYC 7763 64-Core Processor), 7.7 GiB memory, Node v20.20.2 on linux');
    expect(markdown).toContain('**Transport:** `rabbitmq`');
    expect(markdown).toContain('[lab-report.html](lab-report.html)');
    expect(markdown).toContain('[lab-report.json](lab-report.json)');
  });

  it('opens with the textbook table, one row per aspect with its verdict and why', () => {
    const lines = markdown.split('\n');
    const header = lines.indexOf('| Aspect | Synchronous | Asynchronous | Claim holds? |');
    expect(header).toBeGreaterThan(0);
    expect(header).toBeLessThan(lines.findIndex((l) => l.startsWith('## Latency')));
    const rows = lines.slice(header + 2, header + 6);
    expect(rows.map((row) => row.split(' | ')[0])).toEqual(ASPECTS.map((a) => `| ${a}`));
    for (const verdict of report.verdicts) {
      const row = rows.find((r) => r.startsWith(`| ${verdict.aspect} |`));
      expect(row).toBe(
        `| ${verdict.aspect} | ${verdict.sync} | ${verdict.async} | **${verdict.holds ? 'yes' : 'no'}** — ${verdict.because} |`,
      );
    }
    expect(rows[3]).toContain('| **no** —'); // Scalability does not hold in the fixture
  });

  it('has a section per scenario with its figures', () => {
    for (const title of [
      '## Latency under steady load',
      '## Slow downstream: email 300 ms slower',
      '## Failure handling',
      '## Scalability',
      '## Crash: consumer processes killed',
      '## Coupling',
    ]) {
      expect(markdown).toContain(`\n${title}\n`);
    }
    // Numbers right-aligned.
    expect(markdown).toContain(
      '| Rate (req/s) | Duration (s) | Mode | Requests | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | 2xx/s | Errors |\n' +
        '| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n',
    );
    // ms: one decimal below 10, else integers; thousands separated.
    expect(markdown).toContain('| 100 | 30 | Synchronous | 3,000 | 48 | 118 | 230 | 520 | 100 | 0% |');
    expect(markdown).toContain('| 100 | 30 | Asynchronous | 3,000 | 6.2 | 12 | 20 | 86 | 100 | 0% |');
    expect(markdown).toContain('| 200 | 30 | Synchronous | 6,000 | 55 | 148 | 320 | 720 | 200 | 0.3% |');
    expect(markdown).toContain('| Synchronous | during | 1,500 | 346 | 402 | 470 | 1,020 | 49.9 | 0.3% |');
    expect(markdown).toContain('| Asynchronous | 1 | 40 | 19.6 | 31.4 | — | — |');
    expect(markdown).toContain('| Synchronous | 1 | 19.8 | 19.8 | — | 50.5% | 5,012 |');
    expect(markdown).toContain('| 1,800 | 212 | 11.8% | 198 |');
    expect(markdown).toContain('| Synchronous | 5 | `gateway`, `payments`, `email`, `analytics`, `notifications` |');
    expect(markdown).toContain('| Synchronous | 47 | 63 | +16 |');
    expect(markdown).toContain('| Asynchronous | 6.2 | 6.3 | +0.1 |');
  });

  it('writes well-formed tables: as many cells in every row as in the header', () => {
    const cells = (line: string) => line.split(/(?<!\\)\|/).length - 2;
    const lines = markdown.split('\n');
    let tables = 0;
    lines.forEach((line, i) => {
      if (!/^\| (---:?|:?---)( \| (---:?|:?---))* \|$/.test(line)) return;
      tables++;
      const width = cells(lines[i - 1] as string);
      expect(cells(line), lines[i - 1]).toBe(width);
      for (let j = i + 1; lines[j]?.startsWith('|'); j++) expect(cells(lines[j] as string), lines[j]).toBe(width);
    });
    expect(tables).toBe(11);
  });

  it('tells in "Failure handling" what the client saw and what became of the side effects', () => {
    const section = markdown.slice(markdown.indexOf('## Failure handling'), markdown.indexOf('## Scalability'));
    expect(section).toContain('from 20 s to 35 s');
    expect(section).toContain('| Synchronous | 502 × 520 · no response × 45 · 201 × 35 | 94.2% |');
    expect(section).toContain('| Asynchronous | 201 × 600 | 0% |');
    expect(section).toContain('| Receipt delivered exactly once | 2,400 | 100% |');
    expect(section).toContain('| Lost (no receipt) | 0 | 0% |');
    expect(section).toContain('| Duplicated (more than one distinct receipt) | 0 | 0% |');
    expect(section).toMatch(/\| Resends [^|]* \| 3 \|/);
    expect(section).toContain(
      '**Synchronous:** 565 payments were charged while the client was told the request failed.',
    );
  });
});

describe('renderHtml', () => {
  const report = sampleReport();
  const html = renderHtml(report);
  const document = parseHtml(html);

  it('is one page with the textbook table, its rows the four aspects with their verdicts', () => {
    expect(text(byTag(document, 'h1')[0] as Element)).toBe('Syncopate lab report — 2025-06-14');
    const table = byTag(byId(document, 'verdicts'), 'table')[0] as Element;
    const head = byTag(byTag(table, 'thead')[0] as Element, 'th').map(text);
    expect(head).toEqual(['Aspect', 'Synchronous', 'Asynchronous', 'Claim holds?']);
    const rows = byTag(byTag(table, 'tbody')[0] as Element, 'tr').map((tr) =>
      elements(tr)
        .filter((el) => el.tagName === 'th' || el.tagName === 'td')
        .map(text),
    );
    expect(rows).toEqual(
      ASPECTS.map((aspect) => {
        const v = report.verdicts.find((x) => x.aspect === aspect);
        return [aspect, v?.sync, v?.async, `${v?.holds ? 'yes' : 'no'} — ${v?.because}`];
      }),
    );
    for (const id of ['latency', 'slow-downstream', 'failure-handling', 'scalability', 'crash', 'coupling']) {
      expect(byTag(byId(document, id), 'table').length).toBeGreaterThan(0);
    }
    expect(text(byId(document, 'failure-handling'))).toContain('565 payments were charged');
  });

  it('embeds the report as JSON that parses back to it', () => {
    const data = byId(document, 'lab-data');
    expect(data.tagName).toBe('script');
    expect(attr(data, 'type')).toBe('application/json');
    expect(JSON.parse(text(data))).toEqual(report);
  });

  it('has one labelled canvas with a text fallback per chart', () => {
    const canvases = byTag(document, 'canvas');
    expect(canvases.map((c) => attr(c, 'id'))).toEqual([
      'chart-latency',
      'chart-outage',
      'chart-scalability',
      'chart-coupling',
    ]);
    for (const canvas of canvases) {
      expect(attr(canvas, 'role')).toBe('img');
      expect(attr(canvas, 'aria-label')?.length).toBeGreaterThan(20);
      expect(text(canvas).trim().length).toBeGreaterThan(20);
    }
    expect(text(byId(document, 'chart-coupling'))).toContain('Synchronous: 47 ms, then 63 ms');
  });

  it('inlines Chart.js and loads nothing from the network', () => {
    const scripts = byTag(document, 'script');
    expect(scripts.filter((s) => attr(s, 'src') !== undefined)).toEqual([]);
    const chartJs = scripts.find((s) => text(s).includes('Chart.js v4'));
    expect(chartJs).toBeDefined();
    expect(text(chartJs as Element)).toContain('window.Chart=');
    expect(text(chartJs as Element)).not.toContain('sourceMappingURL');
    expect(html.length).toBeGreaterThan(200_000);
    for (const el of elements(document)) {
      for (const name of ['src', 'href', 'srcset', 'data', 'poster']) {
        expect(attr(el, name) ?? '', `${el.tagName}[${name}]`).not.toMatch(/^(https?:)?\/\//i);
      }
    }
    expect(byTag(document, 'link')).toEqual([]);
    expect(text(byTag(document, 'style')[0] as Element)).not.toMatch(/@import|url\(/);
  });

  it('builds the four charts from the embedded data', () => {
    const charts = runCharts(document);
    expect(charts.map((c) => c.id)).toEqual(['chart-latency', 'chart-outage', 'chart-scalability', 'chart-coupling']);
    const [latency, outage, scalability, coupling] = charts.map((c) => c.config) as any[];

    // (a) percentile curves: nearest rank of the sorted samples.
    expect(latency.data.datasets.map((d: any) => d.label)).toEqual(['Synchronous', 'Asynchronous']);
    const p50 = latency.data.datasets[0].data.find((point: any) => point.x === 50);
    expect(p50.y).toBe(report.latency.distribution.sync[999]);
    expect(latency.data.datasets[1].data.at(-1)).toEqual({ x: 100, y: report.latency.distribution.async.at(-1) });

    // (b) error rate per bucket (%), the outage band from the data.
    const syncRates = outage.data.datasets[0].data;
    expect(syncRates[10]).toEqual({ x: 10, y: 0 });
    expect(syncRates[25]).toEqual({ x: 25, y: (100 * 39) / 40 });
    expect(outage.options.plugins.outageBand).toEqual({ from: 20, to: 35 });
    const fills: number[][] = [];
    const ctx = new Proxy(
      { fillRect: (...args: number[]) => fills.push(args) },
      { get: (target: any, key) => target[key] ?? (() => {}), set: () => true },
    );
    outage.plugins[0].beforeDatasetsDraw(
      {
        ctx,
        chartArea: { left: 0, right: 600, top: 0, bottom: 200 },
        scales: { x: { getPixelForValue: (v: number) => v * 10 } },
      },
      {},
      outage.options.plugins.outageBand,
    );
    expect(fills).toEqual([[200, 0, 150, 200]]);

    // (c) side effects per second per async process count, sync beside.
    expect(scalability.data.labels).toEqual(['1 (async)', '2 (async)', '4 (async)', '1 (sync)']);
    expect(scalability.data.datasets[0].data).toEqual([19.6, 38.9, 39.2, null]);
    expect(scalability.data.datasets[1].data).toEqual([null, null, null, 19.8]);

    expect(syncRates).toHaveLength(61); // 60 buckets and the last one's end
    expect(syncRates.at(-1)).toEqual({ x: 60, y: 0 });

    // (d) p50 before and after a fourth side effect.
    expect(coupling.data.datasets.map((d: any) => d.data)).toEqual([
      [47, 6.2],
      [63, 6.3],
    ]);
  });

  it('draws the four charts with the inlined Chart.js itself', () => {
    const chartJs = byTag(document, 'script').find((s) => text(s).includes('Chart.js v4')) as Element;
    const umd: { Chart?: any } = {};
    runInNewContext(text(chartJs), umd); // no window: Chart.js takes its basic platform
    expect(umd.Chart?.version).toMatch(/^4\./);
    const calls: { method: string; args: unknown[] }[] = [];
    const canvases = new Map<string, object>();
    runChartScript(document, umd.Chart, (id) => {
      const canvas = recordingCanvas(id, calls);
      canvases.set(id, canvas);
      return canvas;
    });
    expect([...canvases.keys()]).toEqual(['chart-latency', 'chart-outage', 'chart-scalability', 'chart-coupling']);
    for (const canvas of canvases.values()) expect(umd.Chart.getChart(canvas)).toBeDefined();
    const texts = calls.filter((c) => c.method === 'fillText').map((c) => c.args[0]);
    for (const label of [
      'Percentile',
      'Error rate',
      'email down',
      'Side effects per second',
      'p50 (ms)',
      'Asynchronous',
    ]) {
      expect(texts).toContain(label);
    }
    expect(calls.filter((c) => c.method === 'fillRect')).toHaveLength(1); // the outage band
  });
});

/** The page's own chart script (the last inline script), run with `Chart` and stub DOM globals. */
function runChartScript(document: DefaultTreeAdapterTypes.Document, Chart: unknown, canvas: (id: string) => object) {
  const scripts = byTag(document, 'script').filter((s) => attr(s, 'type') === undefined);
  const nodes = new Map(
    elements(document)
      .filter((el) => attr(el, 'id'))
      .map((el) => {
        const id = attr(el, 'id') as string;
        return [id, el.tagName === 'canvas' ? canvas(id) : { id, textContent: text(el) }];
      }),
  );
  runInNewContext(text(scripts.at(-1) as Element), {
    Chart,
    document: { getElementById: (id: string) => nodes.get(id) ?? null, body: {} },
    // Reduced motion: no animation, so the real Chart.js draws at once.
    window: { matchMedia: () => ({ matches: true }) },
    getComputedStyle: () => ({ fontFamily: 'system-ui' }),
  });
}

/** Runs the chart script against a stub Chart that records each chart's config. */
function runCharts(document: DefaultTreeAdapterTypes.Document) {
  const charts: { id: string; config: unknown }[] = [];
  function Chart(canvas: { id: string }, config: unknown) {
    charts.push({ id: canvas.id, config });
  }
  Chart.defaults = { font: {} };
  runChartScript(document, Chart, (id) => ({ id }));
  return charts;
}

/** A canvas whose 2D context records every call: enough for Chart.js's basic (non-DOM) platform. */
function recordingCanvas(id: string, calls: { method: string; args: unknown[] }[]) {
  const canvas: Record<string, unknown> = { id, width: 640, height: 320, style: {} };
  const state: Record<string | symbol, unknown> = { canvas };
  const context = new Proxy(state, {
    get: (target, key) => {
      if (key in target) return target[key];
      if (key === 'measureText') return (s: string) => ({ width: String(s).length * 6 });
      return (...args: unknown[]) => {
        calls.push({ method: String(key), args });
      };
    },
    set: (target, key, value) => {
      target[key] = value;
      return true;
    },
  });
  canvas.getContext = () => context;
  return canvas;
}

describe('escaping', () => {
  const hostile = 'amqp://x?a=<b>&c</script><script>alert(1)</script><!--';

  function hostileReport(): LabReport {
    const report = sampleReport();
    report.transport = hostile;
    report.machine.cpuModel = 'Intel "Xeon" <E5> & co';
    const coupling = report.verdicts.find((v) => v.aspect === 'Coupling');
    if (coupling) coupling.because = 'A | pipe, a <tag> and *stars* stay text.';
    report.coupling.requestPathServices.sync.push('weird|`name`');
    return report;
  }

  it('escapes strings in the HTML and keeps them intact in the JSON', async () => {
    const report = hostileReport();
    const { html, json } = await written(report);
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('alert(1)</script>');
    expect(html).not.toContain('<E5>');
    expect(html).toContain('amqp://x?a=&#60;b&#62;&#38;c&#60;/script&#62;');

    const document = parseHtml(html);
    expect(byTag(document, 'script')).toHaveLength(3); // data, Chart.js, charts: no injected one
    expect(byTag(document, 'b')).toEqual([]);
    const header = byTag(document, 'header')[0] as Element;
    expect(text(byTag(header, 'code')[0] as Element)).toBe(hostile);
    expect(text(header)).toContain('(Intel "Xeon" <E5> & co)');
    expect(text(byId(document, 'verdicts'))).toContain('A | pipe, a <tag> and *stars* stay text.');

    expect(JSON.parse(json)).toEqual(report);
    expect(JSON.parse(json).transport).toBe(hostile);
    expect(JSON.parse(text(byId(document, 'lab-data')))).toEqual(report);
    expect(text(byId(document, 'lab-data'))).not.toMatch(/[<>&]/);
  });

  it('keeps Markdown tables intact: pipes and markup in cells are escaped', () => {
    const markdown = renderMarkdown(hostileReport());
    expect(markdown).toContain('`amqp://x?a=<b>&c</script><script>alert(1)</script><!--`');
    const row = markdown.split('\n').find((l) => l.startsWith('| Coupling |')) ?? '';
    expect(row).toContain('**yes** — A \\| pipe, a \\<tag\\> and \\*stars\\* stay text. |');
    expect(row.split(/(?<!\\)\|/)).toHaveLength(6); // 4 cells
    expect(markdown).toContain(', ``` weird\\|`name` ```'.replace(/```/g, '``'));
  });

  it('keeps a closing script tag out of the embedded JSON', () => {
    expect(scriptJson({ a: '</script><!--' })).toBe('{"a":"\\u003c/script\\u003e\\u003c!--"}');
    expect(JSON.parse(scriptJson({ a: '</script>&\u2028' }))).toEqual({ a: '</script>&\u2028' });
  });
});

describe('formatting', () => {
  it('formats milliseconds, shares and error rates', () => {
    expect([formatMs(0.04), formatMs(9.94), formatMs(9.96), formatMs(142.6), formatMs(12_345)]).toEqual([
      '0.0',
      '9.9',
      '10',
      '143',
      '12,345',
    ]);
    expect(formatMs(Number.NaN)).toBe('—');
    expect([formatPercent(0), formatPercent(1), formatPercent(0.0004), formatPercent(0.9999)]).toEqual([
      '0%',
      '100%',
      '<0.1%',
      '>99.9%',
    ]);
    expect(formatPercent(0.9417)).toBe('94.2%');
    expect(errorRate({ '201': 6, '503': 1, '0': 1, '202': 2 })).toBe(0.2);
  });
});
