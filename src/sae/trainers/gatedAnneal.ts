/**
 * Gated + p-annealing trainer (trainers.md §5; dictionary_learning GatedAnnealTrainer): the gated
 * loss with the penalty λ_s · mean_b Σ ReLU(π_gate)^{p_s}, p and λ adapted exactly as in
 * p-annealing. Adam β = (0, 0.999), ConstrainedAdam, warm-up 1000.
 */
import type { tf } from '../../tensor/backend.js';
import type { GatedAnnealConfig } from '../config.js';
import type { Dictionary } from '../dictionary.js';
import { renormalizeDecoder } from '../optim.js';
import { advancePAnneal, initialPAnnealState, pAnnealSchedule, type PAnnealSchedule, type PAnnealState } from '../schedule.js';
import { BaseTrainer, type LossAndGrads } from '../trainer.js';
import { chooseSaeEngine, loadSaeNative } from '../native.js';
import { gatedLossAndGrads, gatedNativeStep } from './gated.js';
import { constrainedAdamGrads } from './standard.js';

export class GatedAnnealTrainer extends BaseTrainer<GatedAnnealConfig> {
  readonly schedule: PAnnealSchedule;
  anneal: PAnnealState;

  constructor(config: GatedAnnealConfig, dictionary: Dictionary) {
    super(config, dictionary);
    this.schedule = pAnnealSchedule(config);
    this.anneal = initialPAnnealState(config.pStart, config.initialSparsityPenalty);
  }

  private readonly native = chooseSaeEngine() === 'native' ? loadSaeNative() : null;

  protected override fusedStep(x_BD: tf.Tensor2D, step: number) {
    const a = this.anneal;
    return this.native ? gatedNativeStep(this.native, this.dictionary, this.adam, x_BD, { lambda: a.lambda, p: a.p, nextP: a.nextP }, this.lrAt(step)) : null;
  }

  protected lossAndGrads(x_BD: tf.Tensor2D): LossAndGrads {
    const a = this.anneal;
    return gatedLossAndGrads(this.dictionary.params, x_BD, { lambda: a.lambda, p: a.p, nextP: a.nextP });
  }
  protected transformGrads(grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    return constrainedAdamGrads(this.dictionary, grads);
  }
  protected override afterStep(): void {
    renormalizeDecoder(this.dictionary.params.W_dec);
  }
  protected override afterLoss(host: Record<string, number>, step: number): void {
    const c = this.config;
    this.anneal = advancePAnneal(this.anneal, this.schedule, step, host.lp, host.lpNext ?? null, c.sparsityQueueLength, c.pEnd);
  }
  protected override extraStats(): Record<string, number | null> {
    return { p: this.anneal.p, nextP: this.anneal.nextP, lambda: this.anneal.lambda };
  }
  protected override extraState(): Record<string, unknown> {
    return { anneal: this.anneal };
  }
  protected override loadExtraState(extra: Record<string, unknown>): void {
    this.anneal = structuredClone(extra.anneal as PAnnealState);
  }
}
