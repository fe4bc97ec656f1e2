/**
 * A BatchMatMul gradient that supports broadcast batch dims.
 *
 * tfjs-core 4.22's gradient returns, for an operand that was broadcast (e.g. the weight in
 * x[B,T,C]·W[C,N]), a gradient with the full batch shape ([B,C,N]), and backprop then throws
 * "The gradient of input 'b' has shape 'B,C,N', which does not match the shape of the input 'C,N'".
 * We keep core's formulas and sum the gradient over the broadcast dims, as numpy/PyTorch do.
 * (Gradients are global, so this applies on every backend.)
 */
import * as tf from '@tensorflow/tfjs';

/** Sums `grad` down to `shape` over the dims that were broadcast (leading extras, and 1s). */
export function reduceToShape(grad: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  return tf.tidy(() => {
    const axes = tf.backend_util.getReductionAxes([...shape], grad.shape);
    const summed = axes.length > 0 ? tf.sum(grad, axes) : grad;
    return tf.reshape(summed, [...shape]);
  });
}

let installed = false;

export function installBroadcastMatMulGradient(): void {
  if (installed) return;
  const core = tf.getGradient(tf.BatchMatMul);
  if (!core) return;
  tf.registerGradient({
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const grads = core.gradFunc(dy, saved, attrs);
      return {
        a: () => reduceToShape(grads.a(), a.shape),
        b: () => reduceToShape(grads.b(), b.shape),
      };
    },
  });
  installed = true;
}
