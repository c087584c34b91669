/**
 * The trade-off chart of docs/capacity.md, as a hand-written SVG string (no plotting dependency):
 * hybrid-diffusion costs per message against the large-group threshold, both axes logarithmic.
 * Pure: the same parameters always give the same bytes, so the checked-in file only changes when
 * the model or its inputs do.
 */
import { costPerMessage, sweepThresholds, type CapacityParameters, type MessageCost } from './capacity-model.js';

/** Options of {@link tradeoffChart}. */
export interface ChartOptions {
  /** Smallest and largest threshold on the x axis. Default 10 and 10,000. */
  readonly from?: number;
  readonly to?: number;
  /** Thresholds to mark with a labelled vertical line, e.g. the Messenger default. */
  readonly markers?: readonly { readonly threshold: number; readonly label: string }[];
  /** Chart title. */
  readonly title?: string;
}

interface Series {
  readonly label: string;
  readonly color: string;
  readonly dash: string;
  readonly width: number;
  readonly value: (cost: MessageCost) => number;
}

// Distinguishable by dash pattern as well as by colour.
const SERIES: readonly Series[] = [
  { label: 'read requests per message', color: '#1f77b4', dash: '', width: 2.5, value: (c) => c.readRequests },
  { label: 'rows written per message', color: '#d62728', dash: '', width: 2.5, value: (c) => c.rowsWritten },
  { label: 'write requests per message (200 rows per batch)', color: '#ff7f0e', dash: '6 4', width: 2, value: (c) => c.writeRequests },
  { label: 'capacity units per message (rows written + read requests)', color: '#2ca02c', dash: '2 3', width: 2.5, value: (c) => c.capacityUnits },
];

const WIDTH = 820;
const HEIGHT = 500;
const MARGIN = { left: 70, right: 48, top: 56, bottom: 150 };

/** SVG of the hybrid trade-off across thresholds for `params`. */
export function tradeoffChart(params: CapacityParameters, options: ChartOptions = {}): string {
  const from = options.from ?? 10;
  const to = options.to ?? 10_000;
  if (!(from > 0 && to > from)) throw new RangeError('Expected 0 < from < to');
  // Costs only change where a class's size is crossed: step there and nowhere else.
  const breaks = [from, ...[...new Set(params.classes.map((c) => c.members))].filter((m) => m > from && m <= to).sort((a, b) => a - b)];
  const steps = sweepThresholds(params, breaks);
  const readOnly = costPerMessage(params, { mode: 'read' });
  const values = steps.flatMap((p) => SERIES.map((s) => s.value(p.cost))).concat(readOnly.readRequests);
  // The nearest 1-2-5 ticks around the data, with a little headroom.
  const lowest = Math.min(...values.filter((v) => v > 0)) * 0.9;
  const highest = Math.max(...values) * 1.15;
  const candidates = niceLogTicks(10 ** Math.floor(Math.log10(lowest)), 10 ** Math.ceil(Math.log10(highest)));
  const yMin = Math.max(...candidates.filter((t) => t <= lowest));
  const yMax = Math.min(...candidates.filter((t) => t >= highest));

  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (t: number): number => MARGIN.left + (Math.log10(t / from) / Math.log10(to / from)) * plotW;
  const y = (v: number): number => MARGIN.top + plotH - (Math.log10(v / yMin) / Math.log10(yMax / yMin)) * plotH;
  const n = (v: number): string => (Math.round(v * 10) / 10).toString();

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title ?? 'Hybrid diffusion: cost per message vs large-group threshold')}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title ?? 'Hybrid diffusion: cost per message vs large-group threshold')}</text>`,
    `<text x="${WIDTH / 2}" y="42" text-anchor="middle" fill="#555">groups with more members than the threshold are read-diffused; the others are written to every member's inbox</text>`,
  );

  // Grid and ticks.
  out.push('<g stroke="#e5e5e5" stroke-width="1">');
  const xTicks = niceLogTicks(from, to);
  const yTicks = niceLogTicks(yMin, yMax);
  for (const t of xTicks) out.push(`<line x1="${n(x(t))}" y1="${MARGIN.top}" x2="${n(x(t))}" y2="${MARGIN.top + plotH}"/>`);
  for (const v of yTicks) out.push(`<line x1="${MARGIN.left}" y1="${n(y(v))}" x2="${MARGIN.left + plotW}" y2="${n(y(v))}"/>`);
  out.push('</g>');
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  out.push('<g fill="#333">');
  for (const t of xTicks) out.push(`<text x="${n(x(t))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  for (const v of yTicks) out.push(`<text x="${MARGIN.left - 6}" y="${n(y(v) + 4)}" text-anchor="end">${formatTick(v)}</text>`);
  out.push('</g>');
  out.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 36}" text-anchor="middle">large-group threshold (members, log scale)</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">per message sent (log scale)</text>`,
  );

  // Pure read diffusion, for reference.
  out.push(
    `<line x1="${MARGIN.left}" y1="${n(y(readOnly.readRequests))}" x2="${MARGIN.left + plotW}" y2="${n(y(readOnly.readRequests))}" stroke="#7f7f7f" stroke-dasharray="8 4"/>`,
    `<text x="${MARGIN.left + 6}" y="${n(y(readOnly.readRequests) - 5)}" fill="#555">pure read diffusion: ${n(readOnly.readRequests)} read requests, 1 row written</text>`,
  );

  // Markers.
  (options.markers ?? []).forEach((marker, i) => {
    if (marker.threshold < from || marker.threshold > to) return;
    const mx = n(x(marker.threshold));
    // Labels are stacked so that markers close together stay readable.
    out.push(
      `<line x1="${mx}" y1="${MARGIN.top}" x2="${mx}" y2="${MARGIN.top + plotH}" stroke="#9467bd" stroke-dasharray="3 3"/>`,
      `<text x="${n(x(marker.threshold) + 4)}" y="${MARGIN.top + 14 + i * 16}" fill="#9467bd">${escapeXml(marker.label)}</text>`,
    );
  });

  // The series, as step functions: constant between class sizes, jumping at each.
  for (const s of SERIES) {
    let d = `M${n(x(from))} ${n(y(s.value(steps[0]!.cost)))}`;
    for (let i = 1; i < steps.length; i++) d += ` H${n(x(steps[i]!.threshold))} V${n(y(s.value(steps[i]!.cost)))}`;
    d += ` H${n(x(to))}`;
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
  }
  // End values, labelled at the right edge.
  const last = steps[steps.length - 1]!.cost;
  for (const s of SERIES) out.push(`<text x="${n(x(to) + 4)}" y="${n(y(s.value(last)) + 4)}" fill="${s.color}">${n(s.value(last))}</text>`);

  // Legend.
  const legendTop = MARGIN.top + plotH + 58;
  SERIES.forEach((s, i) => {
    const ly = legendTop + i * 20;
    out.push(
      `<line x1="${MARGIN.left}" y1="${ly}" x2="${MARGIN.left + 36}" y2="${ly}" stroke="${s.color}" stroke-width="${s.width}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<text x="${MARGIN.left + 44}" y="${ly + 4}">${escapeXml(s.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** 1, 2, 5 × powers of ten within [from, to]. */
export function niceLogTicks(from: number, to: number): number[] {
  const ticks: number[] = [];
  for (let exp = Math.floor(Math.log10(from)); exp <= Math.ceil(Math.log10(to)); exp++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** exp;
      if (v >= from * (1 - 1e-9) && v <= to * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks;
}

function formatTick(v: number): string {
  if (v >= 1000) return `${v / 1000}k`;
  return Number(v.toPrecision(3)).toString();
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
