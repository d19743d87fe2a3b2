"""Learned operators and wrappers, installed as ``pdejax.surrogates``.

Every model is an :class:`pdejax.AbstractOperator` (or, wrapped, a stepper or dynamics) taking
one unbatched state ``(C, *spatial)``, exactly like the classical solvers.
"""

__all__: list[str] = []
