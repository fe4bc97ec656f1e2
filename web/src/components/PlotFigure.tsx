// An Observable Plot chart as a React component. `onPick` receives the datum under the pointer
// when the chart is clicked (for marks with a pointer-driven tip).
import * as Plot from '@observablehq/plot';
import { useEffect, useRef } from 'react';

export function PlotFigure({ options, label, onPick, className }: { options: Plot.PlotOptions; label: string; onPick?: (datum: unknown) => void; className?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const width = Math.max(280, Math.min(options.width ?? 640, el.clientWidth || 640));
    const chart = Plot.plot({ ...options, width, ariaLabel: label }) as (SVGSVGElement | HTMLElement) & { value?: unknown };
    chart.setAttribute('role', 'img');
    chart.setAttribute('aria-label', label);
    // Plot names its mark groups with aria-label, which ARIA forbids on role-less <g> elements
    // (the chart as a whole is one labelled image): keep the names as data-mark instead.
    const demote = () => {
      for (const g of chart.querySelectorAll('[aria-label]')) {
        if (g === chart) continue;
        g.setAttribute('data-mark', g.getAttribute('aria-label')!);
        g.removeAttribute('aria-label');
      }
    };
    demote();
    let picked: unknown = null;
    chart.addEventListener('input', () => {
      picked = chart.value;
      demote();
    });
    chart.addEventListener('click', () => picked != null && onPick?.(picked));
    el.replaceChildren(chart);
    return () => chart.remove();
  }, [options, label, onPick]);
  return <figure className={`plot ${className ?? ''}`} ref={ref} />;
}
