/**
 * p-annealing trainer (trainers.md §5; dictionary_learning PAnnealTrainer, sparsity_function
 * 'Lp^p'): the standard ReLU SAE and loss with the penalty λ_s · mean_b Σ f^{p_s}, where p steps
 * from pStart toward pEnd at int-linspace update points and λ is rescaled at each so the penalty's
 * scale stays locally constant [P eq 14]. Adam β = (0.9, 0.999), ConstrainedAdam, warm-up 1000.
 */
import type { tf } from '../../tensor/backend.js';
import type { PAnnealConfig } from '../config.js';
import type { Dictionary } from '../dictionary.js';
import { renormalizeDecoder } from '../optim.js';
import type { PAnnealState } from '../schedule.js';
import { BaseTrainer, type LossAndGrads } from '../trainer.js';
import { constrainedAdamGrads, PAnnealing } from '../trainerParts.js';
import { chooseSaeEngine, loadSaeNative } from '../native.js';
import { reluNativeStep, reluSaeLossAndGrads } from './standard.js';

export class PAnnealTrainer extends BaseTrainer<PAnnealConfig> {
  private readonly annealing: PAnnealing;
  private readonly native = chooseSaeEngine() === 'native' ? loadSaeNative() : null;

  constructor(config: PAnnealConfig, dictionary: Dictionary) {
    super(config, dictionary);
    this.annealing = new PAnnealing(config);
  }

  /** The current p, λ and the pending next p. */
  get anneal(): PAnnealState {
    return this.annealing.state;
  }

  protected override fusedStep(x_BD: tf.Tensor2D, step: number) {
    return this.native ? reluNativeStep(this.native, this.dictionary, this.adam, x_BD, this.annealing.penalty(), this.lrAt(step)) : null;
  }

  protected lossAndGrads(x_BD: tf.Tensor2D): LossAndGrads {
    return reluSaeLossAndGrads(this.dictionary.params, x_BD, this.annealing.penalty());
  }
  protected transformGrads(grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    return constrainedAdamGrads(this.dictionary, grads);
  }
  protected override afterStep(): void {
    renormalizeDecoder(this.dictionary.params.W_dec);
  }
  protected override afterLoss(host: Record<string, number>, step: number): void {
    this.annealing.advance(host, step);
  }
  protected override extraStats(): Record<string, number | null> {
    return this.annealing.stats();
  }
  protected override extraState(): Record<string, unknown> {
    return this.annealing.save();
  }
  protected override loadExtraState(extra: Record<string, unknown>): void {
    this.annealing.load(extra);
  }
}
