import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LiveSample } from '../types.js';

/** Points kept: one a second over the last two minutes (a burst and its scale-in fit in it). */
const WINDOW = 120;

/**
 * The backlog (left axis) runs to thousands while containers (right axis) stay in tens: each has
 * its own scale, so a scale-out is visible beside a large burst.
 */
const SERIES: Array<{
  label: string;
  color: string;
  scale: 'jobs' | 'n';
  pick: (s: LiveSample) => number;
  dash?: number[];
}> = [
  { label: 'backlog', color: '#b45309', scale: 'jobs', pick: (s) => s.backlog.waiting + s.backlog.delayed },
  { label: 'running', color: '#1d4ed8', scale: 'n', pick: (s) => s.running },
  { label: 'starting', color: '#7c3aed', scale: 'n', pick: (s) => s.containers.starting, dash: [4, 3] },
  { label: 'busy', color: '#15803d', scale: 'n', pick: (s) => s.containers.busy },
  { label: 'idle', color: '#64748b', scale: 'n', pick: (s) => s.containers.idle, dash: [2, 2] },
  { label: 'draining', color: '#be123c', scale: 'n', pick: (s) => s.containers.draining, dash: [6, 2] },
];

type Columns = [number[], ...number[][]];

/**
 * Backlog, running invocations and containers by state, one point a second as samples arrive.
 * The numbers drawn are also on the element (`data-*`) and in text below the chart, so tests
 * and screen readers read values, not pixels.
 */
export function LiveChart(props: { samples: LiveSample | undefined }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>();
  const cols = useRef<Columns>([[], ...SERIES.map(() => [])]);
  const [peak, setPeak] = useState({ waiting: 0, at: 0 });
  const [points, setPoints] = useState(0);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    plot.current = new uPlot(
      {
        width: el.clientWidth || 600,
        height: 260,
        scales: {
          // A fixed window ending at the newest sample: time moves right to left at a steady pace.
          x: { time: true, range: (_u, _min, max) => [max - WINDOW, max] },
          jobs: { range: (_u, _min, max) => [0, Math.max(4, max * 1.1)] },
          n: { range: (_u, _min, max) => [0, Math.max(4, max * 1.1)] },
        },
        axes: [
          {},
          { scale: 'jobs', label: 'backlog (jobs)' },
          { scale: 'n', side: 1, label: 'running, containers', grid: { show: false } },
        ],
        // No values under the cursor: the caption below the chart has the latest ones.
        legend: { live: false },
        series: [
          {},
          ...SERIES.map((s) => ({
            label: s.label,
            scale: s.scale,
            stroke: s.color,
            width: 2,
            dash: s.dash,
            points: { show: false },
          })),
        ],
      },
      cols.current,
      el,
    );
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
    };
  }, []);

  const s = props.samples;
  useEffect(() => {
    if (!s) return;
    const c = cols.current;
    c[0].push(s.at / 1000);
    SERIES.forEach((def, i) => (c[i + 1] as number[]).push(def.pick(s)));
    if (c[0].length > WINDOW) for (const col of c) col.shift();
    plot.current?.setData(c);
    setPoints(c[0].length);
    const waiting = (SERIES[0] as (typeof SERIES)[0]).pick(s);
    if (waiting > peak.waiting) setPeak({ waiting, at: Date.now() });
  }, [s]);

  const last = s && Object.fromEntries(SERIES.map((d) => [d.label, d.pick(s)]));
  return (
    <figure class="live" aria-labelledby="live-caption">
      <div
        ref={box}
        class="chart"
        data-testid="live-chart"
        data-points={points}
        data-last={last ? JSON.stringify(last) : ''}
        data-peak-backlog={peak.waiting}
        data-peak-shown-at={peak.at || ''}
        role="img"
        aria-label="Backlog, running invocations and containers by state over the last two minutes"
      />
      <figcaption id="live-caption" data-testid="live-now">
        {last
          ? `now: backlog ${last.backlog}, running ${last.running}; containers ${last.starting} starting, ${last.busy} busy, ${last.idle} idle, ${last.draining} draining · peak backlog ${peak.waiting}`
          : 'connecting…'}
      </figcaption>
    </figure>
  );
}
