"""dlbook: the helper package of the interactive deep-learning textbook.

One small module per topic; each is part of the teaching and can be read in one sitting.
Importing the package has no side effects. Start with :mod:`dlbook.runtime` (device, seed,
scale), :mod:`dlbook.data` (datasets with checksums), :mod:`dlbook.surfaces` (error surfaces
and gradient descent), :mod:`dlbook.plotting` and :mod:`dlbook.interact` (sliders).
"""

from .runtime import device, scale, scaled, seed, time_call

__all__ = ["device", "seed", "scale", "scaled", "time_call"]
__version__ = "0.1.0"
