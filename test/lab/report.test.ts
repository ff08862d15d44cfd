import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type { DefaultTreeAdapterTypes } from 'parse5';
import { afterEach, describe, expect, it } from 'vitest';
import { STATUS_MARK } from '../../src/lab/check-chart.js';
import { conclude } from '../../src/lab/conclude.js';
import { formatInterval, formatMs, formatPercent } from '../../src/lab/format.js';
import { errorRate, renderHtml, renderMarkdown, scriptJson, writeReport } from '../../src/lab/report.js';
import type { LabReport } from '../../src/lab/results.js';
import { sampleMeasured, sampleReport } from './fixture.js';
import { attr, byId, byTag, type Element, elements, expectChartsAgree, parseHtml, text } from './html.js';

const ASPECTS = ['Latency (initial response)', 'Coupling', 'Failure isolation', 'Scalability'];

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

  it('has a title with the date, the machine, its state, the transport and links to the other files', () => {
    expect(markdown.split('\n')[0]).toBe('# Syncopate lab report — 2025-06-14');
    expect(markdown).toContain('2 CPUs (AMD EPYC 7763 64-Core Processor), 7.7 GiB memory, Node v20.20.2 on linux');
    expect(markdown).toContain('**Transport:** `rabbitmq`');
    expect(markdown).toMatch(/\*\*Machine state:\*\* other programs used [\d.]+ CPU \([\d.]+–[\d.]+\) of 2/);
    expect(markdown).toContain('median of 3 trials per mode, run in turn (sync, async, sync, async, …)');
    expect(markdown).toContain('[lab-report.html](lab-report.html)');
    expect(markdown).toContain('[lab-report.json](lab-report.json)');
  });

  it('opens with the chapter table, one row per aspect with the claim, the figures and the verdict', () => {
    const lines = markdown.split('\n');
    const header = lines.indexOf('| Aspect | Synchronous | Asynchronous | Verdict |');
    expect(header).toBeGreaterThan(0);
    expect(header).toBeLessThan(lines.findIndex((l) => l.startsWith('## How each verdict')));
    const rows = lines.slice(header + 2, header + 6);
    expect(rows.map((row) => row.split(' | ')[0])).toEqual(ASPECTS.map((a) => `| ${a}`));
    for (const verdict of report.verdicts) {
      const row = rows.find((r) => r.startsWith(`| ${verdict.aspect} |`)) ?? '';
      expect(row).toContain(`| *${verdict.claim.sync}* — `);
      expect(row).toContain(`**${STATUS_MARK[verdict.status]} ${verdict.status}** — `);
    }
    const latency = rows[0] ?? '';
    expect(latency).toContain('**But:** Async answers the typical payment faster; at 100/s its slowest 1% were slower');
    expect(latency).toContain('**Noise:** 1 warning below.');
    expect(markdown).toContain('- **Latency (initial response):** the machine was busy: other programs used');
  });

  it('shows the checks behind each verdict, with the median and range of each side', () => {
    const section = markdown.slice(markdown.indexOf('## How each verdict'), markdown.indexOf('## What async costs'));
    for (const verdict of report.verdicts) {
      expect(section).toContain(`### ${verdict.aspect}: **${STATUS_MARK[verdict.status]} ${verdict.status}**`);
    }
    expect(section).toMatch(
      /\| p50 at 25\/s \(decides\) \| sync: [\d.]+ ms \([\d.]+–[\d.]+\) \| async: [\d.]+ ms \([\d.]+–[\d.]+\) \| \*\*✓ holds\*\* \|/,
    );
    expect(section).toMatch(/\| p99 at 100\/s \| sync: .* \| async: .* \| \*\*✗ does not hold\*\* \|/);
    expect(section).toContain(
      '| p99 with email +300 ms | sync: not measured | async: not measured | **– not shown** | a p99 needs 200 answers a trial; a trial here had 100 |',
    );
    expect(section).toContain('| services each request waited for (decides) | sync: 5 | async: 1 | **✓ holds** |');
    expect(section).toMatch(
      /\| p50 cost of a fourth side effect at 50\/s \| sync: \+[\d.]+ ms \(−[\d.]+ to \+[\d.]+\) \|/,
    );
    expect(section).toContain(
      '| receipts per second, 1 → 4 email processes (decides) | 1 email process: 8/s (7.9–8.1) | 4 email processes: 31.4/s (31.3–31.5) | **✓ holds** |',
    );
  });

  it('has the rows of what async costs', () => {
    const section = markdown.slice(markdown.indexOf('## What async costs'), markdown.indexOf('## The machine'));
    for (const cost of report.costs) expect(section).toContain(`| ${cost.cost} |`);
    expect(section).toMatch(/\| Consistency window: .* \| none: the receipt is out before the answer/);
    expect(section).toContain(
      '3 consumers killed, one a trial, while others ran (4, 4, 4 receipts in flight at the kills): lost 0 of 480, duplicate receipts 0, resends 10',
    );
    expect(section).toContain('listed the payment 2 of 5 times; analytics read at once counted it 0 of 5 times');
  });

  it('states the machine during each scenario', () => {
    const section = markdown.slice(markdown.indexOf('## The machine'), markdown.indexOf('## Latency under'));
    expect(section).toContain(
      '| Scenario | Trials | Idle CPU | Load generator | Other programs | Widest spread between trials |',
    );
    expect(section).toMatch(/\| latency \| 12 \| [\d.]+% \([\d.]+%–[\d.]+%\) \| 0.35 CPU \|/);
    for (const scenario of ['slowdown', 'outage', 'crash', 'scalability', 'coupling']) {
      expect(section).toContain(`| ${scenario} |`);
    }
  });

  it('has a section per scenario with every trial', () => {
    for (const title of [
      '## Latency under steady load',
      '## Slow downstream: email 300 ms slower',
      '## Failure handling: email down',
      '## Crash: a consumer killed mid-send',
      '## Scalability',
      '## Read-your-writes: reading right after paying',
      '## Coupling',
    ]) {
      expect(markdown).toContain(`\n${title}\n`);
    }
    const latency = markdown.slice(markdown.indexOf('## Latency under'), markdown.indexOf('## Slow downstream'));
    expect(latency.match(/^\| (25|100) \| (Synchronous|Asynchronous) \| [123] \|/gm)).toHaveLength(12);
    expect(markdown).toContain('| Synchronous | 1 | 502 × 78 · no response × 2 | 100% | 78 | — |');
    expect(markdown).toContain('| Asynchronous | 1 | 201 × 80 | 0% | 0 | 80 of 80 once |');
    expect(markdown).toContain('| 2 | 160 | 4 | 0 | 0 | 4 |');
    expect(markdown).toContain('| Asynchronous | 1 | 4 | 80 | 80 (100%) | 0 | 31.3 | 2 |');
    expect(markdown).toContain('| Synchronous | 1 | 1 | 80 | 21 (26.3%) | 59 | — | 9.2 |');
    expect(markdown).toContain(
      '**Synchronous:** 234 payments were charged while the client was told the request failed',
    );
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
    expect(tables).toBe(16);
  });

  it('says plainly what a quick run left out, and draws no chart for it', () => {
    const quick = conclude({
      ...sampleMeasured(),
      quick: true,
      scalability: { skipped: 'quick mode does not measure scalability' },
    });
    const text = renderMarkdown(quick);
    expect(text).toContain('a quick run: short loads, one rate, and two aspects left out (it says which)');
    expect(text).toContain(
      '| Scalability | *Limited* — not measured | *High* — not measured | **– not shown** — quick mode does not measure scalability |',
    );
    expect(text).toContain('Not measured: quick mode does not measure scalability.');
    const document = parseHtml(renderHtml(quick, { chartJs: '' }));
    expect(byTag(byId(document, 'evidence'), 'svg')).toHaveLength(3);
  });
});

describe('renderHtml', () => {
  const report = sampleReport();
  const html = renderHtml(report);
  const document = parseHtml(html);

  it('is one page with the chapter table, its rows the four aspects with their status', () => {
    expect(text(byTag(document, 'h1')[0] as Element)).toBe('Syncopate lab report — 2025-06-14');
    const table = byTag(byId(document, 'verdicts'), 'table')[0] as Element;
    const head = byTag(byTag(table, 'thead')[0] as Element, 'th').map(text);
    expect(head).toEqual(['Aspect', 'Synchronous', 'Asynchronous', 'Verdict']);
    const rows = byTag(byTag(table, 'tbody')[0] as Element, 'tr');
    expect(rows.map((tr) => text(elements(tr).find((el) => el.tagName === 'th') as Element))).toEqual(ASPECTS);
    rows.forEach((tr, i) => {
      const verdict = report.verdicts[i] as (typeof report.verdicts)[number];
      const badge = elements(tr).find((el) => attr(el, 'class')?.startsWith('status')) as Element;
      expect(text(badge)).toBe(`${STATUS_MARK[verdict.status]} ${verdict.status}`);
      expect(text(tr)).toContain(verdict.because);
    });
    for (const id of [
      'evidence',
      'costs',
      'noise',
      'latency',
      'slowdown',
      'failure-handling',
      'crash',
      'scalability',
      'read-your-writes',
      'coupling',
    ]) {
      expect(byTag(byId(document, id), 'table').length).toBeGreaterThan(0);
    }
  });

  it('embeds the report, every trial included, as JSON that parses back to it', () => {
    const data = byId(document, 'lab-data');
    expect(data.tagName).toBe('script');
    expect(attr(data, 'type')).toBe('application/json');
    expect(JSON.parse(text(data))).toEqual(report);
  });

  it("draws each verdict's checks as a chart that carries the verdict's status and agrees with every check", () => {
    expectChartsAgree(document, report.verdicts);
    for (const svg of byTag(byId(document, 'evidence'), 'svg')) expect(attr(svg, 'role')).toBe('img');
  });

  it('has a labelled canvas with a text fallback for the percentile curve', () => {
    const canvases = byTag(document, 'canvas');
    expect(canvases.map((c) => attr(c, 'id'))).toEqual(['chart-latency']);
    const canvas = canvases[0] as Element;
    expect(attr(canvas, 'role')).toBe('img');
    expect(attr(canvas, 'aria-label')).toContain('all trials pooled');
    expect(text(canvas)).toMatch(
      /^Synchronous: p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms, max [\d,.]+ ms \(3,000 responses\)/,
    );
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

  it('builds the percentile curve from every trial of the highest rate, pooled', () => {
    const charts = runCharts(document);
    expect(charts.map((c) => c.id)).toEqual(['chart-latency']);
    const config = charts[0]?.config as any;
    expect(config.data.datasets.map((d: any) => d.label)).toEqual(['Synchronous', 'Asynchronous']);
    const top = report.latency.points.at(-1);
    const pooled = (top?.trials ?? [])
      .filter((t) => t.mode === 'async')
      .flatMap((t) => t.latenciesMs ?? [])
      .sort((a, b) => a - b);
    expect(config.data.datasets[1].data.find((point: any) => point.x === 50).y).toBe(pooled[1_499]);
    expect(config.data.datasets[1].data.at(-1)).toEqual({ x: 100, y: pooled.at(-1) });
  });

  it('draws the curve with the inlined Chart.js itself', () => {
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
    expect([...canvases.keys()]).toEqual(['chart-latency']);
    for (const canvas of canvases.values()) expect(umd.Chart.getChart(canvas)).toBeDefined();
    const texts = calls.filter((c) => c.method === 'fillText').map((c) => c.args[0]);
    for (const label of ['Percentile', 'Response time (ms)', 'Asynchronous']) expect(texts).toContain(label);
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
    report.coupling.requestPaths.sync[0]?.push('weird|`name`');
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
    expect(row).toContain('**✓ holds** — A \\| pipe, a \\<tag\\> and \\*stars\\* stay text.');
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

  it('writes a figure over its trials as the median and the range', () => {
    expect(formatInterval({ median: 121.4, min: 115, max: 130.2, n: 3 }, 'ms')).toBe('121 ms (115–130)');
    expect(formatInterval({ median: 5, min: 5, max: 5, n: 3 }, 'count')).toBe('5');
    expect(formatInterval({ median: 0.2, min: 0.18, max: 0.221, n: 3 }, 'share')).toBe('20.0% (18.0%–22.1%)');
    expect(formatInterval({ median: 6, min: -2.2, max: 10, n: 3 }, 'ms', true)).toBe('+6.0 ms (−2.2 to +10)');
    expect(formatInterval(null, 'ms')).toBe('—');
  });
});
