r"""The $\varphi$-functions of exponential integrators, by the Kassam-Trefethen contour mean.

$$\varphi_0(z) = e^z, \qquad \varphi_{k+1}(z) = \frac{\varphi_k(z) - 1/k!}{z}.$$

Reference: A.-K. Kassam and L. N. Trefethen, "Fourth-order time-stepping for stiff PDEs",
SIAM J. Sci. Comput. 26 (2005) 1214-1233.
"""

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Shaped


def phi_functions(
    z: Shaped[ArrayLike, "*shape"],
    max_order: int,
    *,
    num_points: int = 16,
    radius: float = 1.0,
) -> tuple[Shaped[Array, "*shape"], ...]:
    r"""$(\varphi_1(z), \dots, \varphi_m(z))$ by the Kassam-Trefethen contour mean.

    $\varphi_k(z) \approx \frac1M\sum_{j=1}^M \varphi_k(z + r e^{i\theta_j})$ with
    $\theta_j = 2\pi(j - \tfrac12)/M$: the trapezoidal rule for Cauchy's integral of the entire
    function $\varphi_k$, converging like $r^M/M!$. For real ``z`` the mean is real and only the
    upper half of the circle is evaluated (the other half is its conjugate). The half-offset
    nodes never hit $z = 0$ exactly for real ``z``.

    Args:
        z: the points, real or complex.
        max_order: the highest $k$.
        num_points: $M$, points on the full circle (even). Default 16: the trapezoidal error
            $\sim r^M/M!$ is below round-off, and fewer nodes keep them farther from 0
            (relative error <= 3e-13 in float64 against 40-digit references; 32 nodes,
            Kassam-Trefethen's choice, reach only 2e-12 for $|z|$ near 1).
        radius: $r$. Default 1.

    Returns:
        A tuple of ``max_order`` arrays shaped like ``z``, real when ``z`` is real.

    Example:
        >>> import jax.numpy as jnp
        >>> phi1, phi2 = phi_functions(jnp.array([0.0, -1.0]), 2)
        >>> [round(float(p), 6) for p in phi1], round(float(phi2[0]), 6)
        ([1.0, 0.632121], 0.5)
    """
    if max_order < 1:
        raise ValueError(f"phi_functions: `max_order` must be at least 1, got {max_order}.")
    if num_points < 2 or num_points % 2:
        raise ValueError(f"phi_functions: `num_points` must be even and >= 2, got {num_points}.")
    z = jnp.asarray(z)
    real = not jnp.iscomplexobj(z)
    m = num_points // 2 if real else num_points
    thetas = 2 * np.pi * (np.arange(1, m + 1) - 0.5) / num_points
    cdtype = jnp.result_type(z, jnp.complex64)
    # nodes on a trailing axis (one fused kernel, fast to compile); mean over it at the end.
    # exp(z + node) = exp(z) exp(node): one exponential per point, not per node, and a
    # reciprocal of w reused by every order instead of a complex division per order (together
    # 8x cheaper: the coefficients of a 256^2 symbol went from 21 ms to under 3 ms on CPU).
    nodes = radius * np.exp(1j * thetas)
    w = z[..., None] + jnp.asarray(nodes, cdtype)
    inv_w = jnp.conj(w) / (jnp.real(w) ** 2 + jnp.imag(w) ** 2)
    phi = jnp.exp(z)[..., None] * jnp.asarray(np.exp(nodes), cdtype)
    phis = []
    for k in range(max_order):
        phi = (phi - 1.0 / math.factorial(k)) * inv_w
        phis.append(jnp.mean(phi, axis=-1))
    return tuple(jnp.real(p) for p in phis) if real else tuple(phis)


__all__ = ["phi_functions"]
