"""Classical PDE solvers, installed as ``pdejax.solvers``.

Each solver is an :class:`pdejax.AbstractStepper` or :class:`pdejax.AbstractOperator` (and can
provide an :class:`pdejax.AbstractDynamics`), so it is interchangeable with a learned surrogate.
"""

__all__: list[str] = []
