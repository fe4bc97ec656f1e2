/**
 * Learning-rate and p-annealing schedules (trainers.md §1, §4, §5.2), as pure functions of the
 * step so they are trivially exact on resume.
 */

/**
 * LR multiplier at `step` (counted from 0; the update at step s uses lr·factor(s), as
 * torch's LambdaLR does): linear warm-up step/warmupSteps, then constant, then (optionally) a
 * linear decay (steps − step)/(steps − decayStart) from decayStart. This is dictionary_learning's
 * `warmup_fn` / `get_lr_schedule`; the very first update uses lr 0 when there is a warm-up.
 */
export function lrFactor(step: number, warmupSteps: number, decayStart: number | null, steps: number): number {
  if (warmupSteps > 0 && step < warmupSteps) return step / warmupSteps;
  if (decayStart !== null && step >= decayStart) return (steps - step) / (steps - decayStart);
  return 1;
}

/** JumpReLU's sparsity warm-up: min(step / n, 1) (1 when n = 0). */
export function sparsityWarmup(step: number, n: number): number {
  return n > 0 ? Math.min(step / n, 1) : 1;
}

/**
 * torch.linspace(start, end, n, dtype=int) on CPU: the step is computed in double, the first half
 * as start + i·step and the second half as end − (n−1−i)·step, each truncated toward zero.
 */
export function intLinspace(start: number, end: number, n: number): number[] {
  if (n === 1) return [Math.trunc(start)];
  const step = (end - start) / (n - 1);
  const half = Math.floor(n / 2);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.trunc(i < half ? start + step * i : end - step * (n - 1 - i)));
  return out;
}

/**
 * torch.linspace(start, end, n) in float32 (same half/half evaluation as above, float32 arithmetic).
 * PyTorch's vectorised kernel may evaluate a few middle entries from the other end, which can
 * differ by one float32 ulp; that is far below anything the training loss can resolve.
 */
export function f32Linspace(start: number, end: number, n: number): number[] {
  const f = Math.fround;
  if (n === 1) return [f(start)];
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (n - 1));
  const half = Math.floor(n / 2);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(i < half ? f(s + f(step * i)) : f(e - f(step * (n - 1 - i))));
  return out;
}

/** The p-annealing schedule of trainers.md §5.2: update points and the p value set at each. */
export interface PAnnealSchedule {
  updateSteps: number[];
  pValues: number[];
}

export function pAnnealSchedule(c: { annealStart: number; annealEnd: number; nSparsityUpdates: number; pStart: number; pEnd: number }): PAnnealSchedule {
  return {
    updateSteps: intLinspace(c.annealStart, c.annealEnd, c.nSparsityUpdates),
    pValues: f32Linspace(c.pStart, c.pEnd, c.nSparsityUpdates),
  };
}

/** Host-side state of the p / λ adaptation (saved in trainer_state.json). */
export interface PAnnealState {
  p: number;
  nextP: number | null;
  /** Index of the next update point (torch's p_step_count). */
  k: number;
  lambda: number;
  /** Recent (mean Σ f^p, mean Σ f^next_p) pairs, newest last. */
  queue: [number, number][];
}

export function initialPAnnealState(pStart: number, lambda0: number): PAnnealState {
  return { p: pStart, nextP: null, k: 0, lambda: lambda0, queue: [] };
}

/**
 * The bookkeeping dictionary_learning does after forming the loss of step `step` (p_anneal.py
 * `loss`): queue the pair (Σf^p, Σf^next_p) when next_p is set; at an update point rescale
 * λ ← λ·mean(Σf^p)/mean(Σf^next_p) [P eq 14] and move p to the next value. The returned state
 * applies from the next step on: the code computes `scaled_lp_loss` with the p and λ that held
 * *before* this update (see docs/sae.md, "p-annealing: which step the new p applies to").
 */
export function advancePAnneal(
  s: PAnnealState,
  sched: PAnnealSchedule,
  step: number,
  lpCur: number,
  lpNext: number | null,
  queueLength: number,
  pEnd: number,
): PAnnealState {
  const next: PAnnealState = { ...s, queue: s.queue.slice() };
  if (s.nextP !== null && lpNext !== null) {
    next.queue.push([lpCur, lpNext]);
    if (next.queue.length > queueLength) next.queue = next.queue.slice(-queueLength);
  }
  const n = sched.updateSteps.length;
  if (next.k < n && sched.updateSteps.includes(step) && step >= sched.updateSteps[next.k]) {
    if (next.nextP !== null && next.queue.length > 0) {
      const cur = next.queue.reduce((a, q) => a + q[0], 0) / next.queue.length;
      const nxt = next.queue.reduce((a, q) => a + q[1], 0) / next.queue.length;
      next.lambda = next.lambda * (cur / nxt);
    }
    next.p = sched.pValues[next.k];
    next.nextP = next.k < n - 1 ? sched.pValues[next.k + 1] : pEnd;
    next.k += 1;
  }
  return next;
}
