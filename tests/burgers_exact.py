r"""The exact solution of viscous Burgers by the Cole-Hopf transform, written independently of the
solvers (numpy/scipy only, float64).

Derivation. With $u = -2\nu\,\varphi_x/\varphi$, $u_t + u u_x = \nu u_{xx}$ becomes the heat
equation $\varphi_t = \nu\varphi_{xx}$, and $\varphi_0(x) = \exp(-G(x)/(2\nu))$ with
$G(x) = \int_0^x u_0$. Convolving with the heat kernel and differentiating under the integral,
using $-2\nu\varphi_0' = u_0\varphi_0$,

$$u(x, t) = \frac{\int u_0(y)\, \varphi_0(y)\, e^{-(x-y)^2/(4\nu t)}\,dy}
                 {\int \varphi_0(y)\, e^{-(x-y)^2/(4\nu t)}\,dy}.$$

With $y = x - 2\sqrt{\nu t}\,\eta$ both integrals carry the weight $e^{-\eta^2}$; they are
evaluated by the trapezoidal rule on $|\eta| \le 9$ (the tail beyond is below $10^{-35}$), which
converges geometrically for these entire, Gaussian-weighted integrands. The denominator's terms
are all positive, so nothing cancels even when $\varphi_0$ spans many orders of magnitude
(small $\nu$); the exponents are shifted by their maximum before exponentiation.

For $u_0 = a\sin(2\pi x)$ (periodic, zero mean: $\varphi_0$ is periodic and entire) a second,
separate form is the Fourier-Bessel series: $e^{A\cos\theta} = I_0(A) + 2\sum_n I_n(A)\cos n\theta$
with $A = a/(4\pi\nu)$ gives

$$u = \frac{8\pi\nu\sum_{n\ge1} n I_n(A) e^{-4\pi^2 n^2\nu t}\sin 2\pi n x}
           {I_0(A) + 2\sum_{n\ge1} I_n(A) e^{-4\pi^2 n^2\nu t}\cos 2\pi n x},$$

accurate where $\varphi$ has a small dynamic range (large $\nu$), used to cross-check the
quadrature.
"""

import numpy as np
from scipy import special


def sine_initial(x, amplitude=1.0):
    return amplitude * np.sin(2 * np.pi * np.asarray(x))


def _sine_potential(y, amplitude):
    """$G(y) = \\int_0^y a\\sin(2\\pi s)ds$."""
    return amplitude * (1 - np.cos(2 * np.pi * y)) / (2 * np.pi)


def cole_hopf(x, t, nu, *, amplitude=1.0, num_nodes=1201):
    """$u(x, t)$ for $u_0 = a\\sin 2\\pi x$ by quadrature of the heat kernel."""
    x = np.asarray(x, dtype=np.float64)
    if t == 0:
        return sine_initial(x, amplitude)
    eta = np.linspace(-9.0, 9.0, num_nodes)
    y = x[..., None] - 2 * np.sqrt(nu * t) * eta
    log_weight = -(eta**2) - _sine_potential(y, amplitude) / (2 * nu)
    log_weight -= log_weight.max(axis=-1, keepdims=True)
    weight = np.exp(log_weight)
    return (weight * sine_initial(y, amplitude)).sum(-1) / weight.sum(-1)


def cole_hopf_series(x, t, nu, *, amplitude=1.0, num_terms=200):
    """The same solution by the Fourier-Bessel series (for moderate $a/\\nu$)."""
    x = np.asarray(x, dtype=np.float64)
    big_a = amplitude / (4 * np.pi * nu)
    n = np.arange(1, num_terms + 1)
    coef = special.ive(n, big_a) * np.exp(-4 * np.pi**2 * n**2 * nu * t)
    theta = 2 * np.pi * x[..., None] * n
    num = 8 * np.pi * nu * (n * coef * np.sin(theta)).sum(-1)
    den = special.ive(0, big_a) + 2 * (coef * np.cos(theta)).sum(-1)
    return num / den
