# Fits the erfc tail used by Kernels.Elementwise.ActivationMath.NormalCdf (GELU):
#   erfc(z) = t * exp(-z^2 + P(t)),  t = 1 / (1 + z / 2),  P of degree 10, least squares on z in [0.69, 10.6],
# and prints P's coefficients (lowest first) and the Taylor coefficients R of Phi(x) = 1/2 + x R(x^2) for |x| < 0.99.
# Run with Debian's python3-numpy: /usr/bin/python3 fit_erfc.py
import math
import numpy as np

zs = np.linspace(0.69, 10.6, 400001)
t = 1 / (1 + 0.5 * zs)
f = np.array([math.log(math.erfc(z)) for z in zs]) - np.log(t) + zs * zs
c = np.polynomial.polynomial.polyfit(t, f, 10)
print("fit error", np.max(np.abs(np.polynomial.polynomial.polyval(t, c) - f)))
print("P:", ", ".join("%.9ef" % v for v in c))
r = [(-1) ** n / (2 ** n * math.factorial(n) * (2 * n + 1)) / math.sqrt(2 * math.pi) for n in range(9)]
print("R:", ", ".join("%.9ef" % v for v in r))
