// The histogram of matches: SVG bars over the range. Dragging across it
// selects a range and zooms to it; a click on a bar zooms to that bucket.
import { svg, h, clear, fmtTime, fmtNum } from './dom.js';

const HEIGHT = 110;
const AXIS = 18;

export function renderHistogram(box, data, { onZoom } = {}) {
  clear(box);
  const buckets = data.buckets || [];
  if (!buckets.length) return;
  const width = Math.max(200, box.clientWidth || 800);
  const step = data.interval_ms;
  const t0 = new Date(buckets[0].t).getTime();
  const t1 = new Date(buckets[buckets.length - 1].t).getTime() + step;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const bw = width / buckets.length;
  const x = (t) => ((t - t0) / (t1 - t0)) * width;
  const timeAt = (px) => t0 + (Math.min(Math.max(px, 0), width) / width) * (t1 - t0);

  const chart = svg('svg', { class: 'histogram', width, height: HEIGHT + AXIS, viewBox: `0 0 ${width} ${HEIGHT + AXIS}`, role: 'img',
    'aria-label': `Matches over time, ${data.interval} per bar` });
  const bars = svg('g', { class: 'bars' });
  buckets.forEach((b, i) => {
    const bh = b.count ? Math.max(1, (b.count / max) * (HEIGHT - 4)) : 0;
    bars.append(svg('rect', { x: i * bw + 0.5, y: HEIGHT - bh, width: Math.max(1, bw - 1), height: bh, dataset: { i } },
      svg('title', null, `${fmtTime(b.t)} UTC (+${data.interval}): ${fmtNum(b.count)}${data.exact ? '' : ' (estimated)'}`)));
    // A transparent full-height target makes small bars easy to click.
    bars.append(svg('rect', { class: 'hit', x: i * bw, y: 0, width: bw, height: HEIGHT, dataset: { i } }));
  });
  chart.append(bars);
  const axis = svg('g', { class: 'axis' });
  // Ticks on bucket starts, so that their labels are round times.
  const ticks = Math.min(6, buckets.length);
  for (let k = 0; k < ticks; k++) {
    const b = buckets[Math.round((k * buckets.length) / ticks)];
    const t = new Date(b.t).getTime();
    const label = fmtTime(b.t).replace(/:00$/, '');
    axis.append(svg('line', { x1: x(t), x2: x(t), y1: HEIGHT, y2: HEIGHT + 4 }));
    axis.append(svg('text', { x: Math.max(x(t), 1), y: HEIGHT + AXIS - 3, 'text-anchor': k === 0 ? 'start' : 'middle' }, label));
  }
  chart.append(axis);
  const sel = svg('rect', { class: 'selection', x: 0, y: 0, width: 0, height: HEIGHT, visibility: 'hidden' });
  chart.append(sel);
  box.append(chart);

  // Drag to zoom.
  let start = null;
  const px = (e) => e.clientX - chart.getBoundingClientRect().left;
  chart.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    start = px(e);
    chart.setPointerCapture(e.pointerId);
    sel.setAttribute('x', start);
    sel.setAttribute('width', 0);
    sel.setAttribute('visibility', 'visible');
  });
  chart.addEventListener('pointermove', (e) => {
    if (start === null) return;
    const p = px(e);
    sel.setAttribute('x', Math.min(start, p));
    sel.setAttribute('width', Math.abs(p - start));
  });
  chart.addEventListener('pointerup', (e) => {
    if (start === null) return;
    const p = px(e);
    const a = Math.min(start, p);
    const b = Math.max(start, p);
    start = null;
    sel.setAttribute('visibility', 'hidden');
    if (!onZoom) return;
    if (b - a >= 4) {
      onZoom(new Date(timeAt(a)), new Date(timeAt(b)));
      return;
    }
    const i = Math.floor(a / bw);
    if (i >= 0 && i < buckets.length && buckets[i].count > 0 && step > 1000) {
      const bt = new Date(buckets[i].t).getTime();
      onZoom(new Date(bt), new Date(bt + step));
    }
  });
}

// histogramNote says what the bars count.
export function histogramNote(data) {
  const parts = [`${data.interval} per bar`];
  if (!data.exact) {
    parts.push(data.upper_bound
      ? 'at most: the counts include candidates not checked'
      : `estimated from ${data.verified_blocks} of ${data.candidate_blocks} candidate blocks`);
  }
  return h('span', { class: data.exact ? 'note' : 'note approx' }, parts.join(' · '));
}
