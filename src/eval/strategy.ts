/**
 * Strategy averages (bsp.md §5, [SBGE f1_analysis.py add_average_coverage_for_columns,
 * add_average_high_level_board_reconstruction_for_columns]): the plain mean over the chess strategy
 * concept functions of their coverage and of their reconstruction, each function with its own best
 * threshold. A 64-square concept counts once, like a 1-cell concept (weights all 1.0).
 */
export interface StrategyAverage {
  /** Number of strategy families averaged (14 for the paper's set). */
  families: number;
  names: string[];
  coverage: number;
  /** Mean reconstruction, null when no D_test was evaluated. */
  reconstruction: number | null;
}

export function strategyAverage(
  families: readonly { name: string; group: string; coverage: number; reconstruction: number | null }[],
): StrategyAverage | null {
  const strat = families.filter((f) => f.group === 'strategy');
  if (strat.length === 0) return null;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rec = strat.map((f) => f.reconstruction);
  return {
    families: strat.length,
    names: strat.map((f) => f.name),
    coverage: mean(strat.map((f) => f.coverage)),
    reconstruction: rec.every((r): r is number => r !== null) ? mean(rec) : null,
  };
}
