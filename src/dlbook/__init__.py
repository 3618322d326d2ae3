"""dlbook: the helper package of the interactive deep-learning textbook.

One module per topic; each is part of the teaching and can be read in one sitting. Importing
the package has no side effects. A chapter's setup cell calls :func:`seed`, :func:`device` and
:func:`scale`; everything else is imported by topic (``from dlbook import data, plotting``).

Modules, what they hold, and the chapters that use them:

.. list-table::
   :header-rows: 1

   * - module
     - holds
     - chapters
   * - :mod:`dlbook.runtime`
     - device, seeding, the small/full scale, experiment settings (``RunConfig``), timing (``time_call``)
     - all
   * - :mod:`dlbook.data`
     - the datasets, verified by checksum; lagged features of a time series
     - all
   * - :mod:`dlbook.plotting`
     - the book's figure style, error surfaces (contour + 3-D), networks, attention maps, image grids
     - all
   * - :mod:`dlbook.figure_text`
     - text descriptions of figures, stored in the PNG (the website's alt text)
     - all
   * - :mod:`dlbook.interact`
     - sliders that work live and on the static site
     - all
   * - :mod:`dlbook.surfaces`
     - error surfaces of a linear model: loss over a (w, b) grid, its gradient and Hessian
     - 1, 2, 3, 6, 9
   * - :mod:`dlbook.optim`
     - gradient descent with its path; SGD with momentum, AdaGrad, RMSProp, Adadelta, Adam, clipping
     - 1, 2, 3, 6, 9, 10, 11, 14, 24
   * - :mod:`dlbook.gradcheck`
     - gradients checked by finite differences
     - 2
   * - :mod:`dlbook.classification`
     - the logistic unit, logistic and softmax regression, the Gaussian generative classifier
     - 3, 7
   * - :mod:`dlbook.activations`
     - activation functions and their derivatives
     - 4
   * - :mod:`dlbook.piecewise`
     - hard sigmoids and piecewise linear curves built from ReLUs
     - 4, 5
   * - :mod:`dlbook.backprop`
     - backpropagation by hand for fully connected networks
     - 5
   * - :mod:`dlbook.expressivity`
     - parity and sawtooth networks: depth against width
     - 5
   * - :mod:`dlbook.regression`
     - polynomial features and the book's one ridge solver
     - 6, 8, 20, 23
   * - :mod:`dlbook.regularization`
     - weight penalties, input-noise augmentation, early stopping
     - 8
   * - :mod:`dlbook.generalization`
     - N-fold cross-validation, a union bound, generalization gaps
     - 8
   * - :mod:`dlbook.hessian`
     - Hessians of a network's loss, critical points and their eigenvalues
     - 9
   * - :mod:`dlbook.initialization`
     - fan-in and fan-out, Xavier and Kaiming initialization, signal size across depth
     - 8
   * - :mod:`dlbook.normalization`
     - batch normalization and layer normalization
     - 11, 14, 16
   * - :mod:`dlbook.schedules`
     - learning-rate schedules (warm-up, decay)
     - 11
   * - :mod:`dlbook.checks`
     - the checks of bad input shared by the modules (finite values, labels, counts, dtypes)
     - all, through the other modules
   * - :mod:`dlbook.train`
     - the training engine: ``minibatches``, ``fit``, ``History``, ``Diverged``, ``cross_entropy_step``,
       ``train_classifier``, ``accuracy``
     - 4, 5, 10, 11, 12, 13, 14, 16, 17, 19, 20, 21, 22
   * - :mod:`dlbook.checkpoints`
     - trained models kept between chapters, keyed on their code and verified by checksum
     - 12, 17, 19, 20, 21
   * - :mod:`dlbook.models`
     - networks several chapters share: the ``mlp`` builder, the GAN's ``MLP``, the digit CNN
     - 4, 8, 9, 10, 11, 12, 17, 19, 20, 21
   * - :mod:`dlbook.conv`
     - convolution and pooling from scratch
     - 12, 24
   * - :mod:`dlbook.attention`
     - self-attention, multi-head attention, masks, positional encodings
     - 13, 16, 24
   * - :mod:`dlbook.rnn`
     - RNN, LSTM and GRU cells, character models
     - 14, 24
   * - :mod:`dlbook.embeddings`
     - word embeddings: counts, PPMI, skip-gram with negative sampling
     - 15
   * - :mod:`dlbook.transformer`
     - encoder and decoder blocks, a small encoder-decoder, a language model, decoding
     - 16
   * - :mod:`dlbook.pretraining`
     - self-supervised pre-training: masked tokens, next sentences, masked patches, fine-tuning
     - (coming chapters)
   * - :mod:`dlbook.gan`
     - GAN losses, divergences, Lipschitz constraints, training
     - 17
   * - :mod:`dlbook.metrics`
     - scores of generators and detectors: ROC curve and AUC, Fréchet distance, inception score
     - 17, 19
   * - :mod:`dlbook.autoencoder`
     - PCA, auto-encoders, de-noising, discrete codes
     - 19
   * - :mod:`dlbook.explain`
     - saliency, occlusion, integrated gradients, LIME, probes, sanity checks
     - 20
   * - :mod:`dlbook.rl`
     - Markov decision processes, Bellman equations, dynamic programming, Monte Carlo, SARSA, Q-learning
     - 22
   * - :mod:`dlbook.attacks`
     - FGSM, PGD, targeted and ensemble (transfer) attacks, adversarial training
     - 21

The chapters are numbered as in the table of contents; each function's docstring links to the
chapter that introduces it.
"""

from .runtime import RunConfig, device, per_scale, scale, scaled, seed, time_call

__all__ = ["device", "seed", "scale", "scaled", "RunConfig", "per_scale", "time_call"]
__version__ = "0.1.0"
