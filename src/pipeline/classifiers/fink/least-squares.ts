// Unbounded nonlinear least squares with the trust-region reflective method as scipy.optimize.least_squares
// runs it by default (method 'trf' without bounds, exact trust-region subproblem by SVD, forward-difference
// Jacobian, x_scale 1, linear loss, ftol = xtol = gtol = 1e-8, at most 100 n evaluations). actsnfink fits its
// sigmoid with it; a fit with few points has a flat valley where the point reached depends on the path, so the
// path is the one scipy takes: same steps, same radius updates, same stopping tests.

const EPS = 2.220446049250313e-16;

function norm(v: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < v.length; i++) acc += v[i]! ** 2;
  return Math.sqrt(acc);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc += a[i]! * b[i]!;
  return acc;
}

/** Thin SVD of an m x n matrix (m >= n, row-major) by one-sided Jacobi rotations; s descending. */
export function svd(a: number[][], n: number): { u: number[][]; s: number[]; v: number[][] } {
  const m = a.length;
  const w = a.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          alpha += w[i]![p]! ** 2;
          beta += w[i]![q]! ** 2;
          gamma += w[i]![p]! * w[i]![q]!;
        }
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const wp = w[i]![p]!;
          const wq = w[i]![q]!;
          w[i]![p] = c * wp - s * wq;
          w[i]![q] = s * wp + c * wq;
        }
        for (let i = 0; i < n; i++) {
          const vp = v[i]![p]!;
          const vq = v[i]![q]!;
          v[i]![p] = c * vp - s * vq;
          v[i]![q] = s * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  const sigma = Array.from({ length: n }, (_, j) => Math.sqrt(w.reduce((acc, row) => acc + row[j]! ** 2, 0)));
  const order = sigma.map((_, j) => j).sort((x, y) => sigma[y]! - sigma[x]!);
  const s = order.map((j) => sigma[j]!);
  const u = w.map((row) => order.map((j) => (sigma[j]! === 0 ? 0 : row[j]! / sigma[j]!)));
  const vs = v.map((row) => order.map((j) => row[j]!));
  return { u, s, v: vs };
}

type Residuals = (x: readonly number[]) => number[];

/** scipy's approx_derivative, '2-point', no bounds: J[:, i] = (f(x + h_i e_i) - f0) / h_i. */
function jacobian(fun: Residuals, x0: readonly number[], f0: readonly number[]): number[][] {
  const rstep = Math.sqrt(EPS);
  const m = f0.length;
  const jac = Array.from({ length: m }, () => new Array<number>(x0.length).fill(0));
  x0.forEach((xi, i) => {
    const sign = xi >= 0 ? 1 : -1;
    const h = rstep * sign * Math.max(1, Math.abs(xi));
    const x = [...x0];
    x[i] = xi + h;
    const dx = x[i] - xi;
    const f = fun(x);
    for (let r = 0; r < m; r++) jac[r]![i] = (f[r]! - f0[r]!) / dx;
  });
  return jac;
}

/** scipy's solve_lsq_trust_region: the step of the trust-region subproblem from the SVD of J. */
function trustRegionStep(
  n: number,
  m: number,
  uf: number[],
  s: number[],
  v: number[][],
  delta: number,
  initialAlpha: number,
): { step: number[]; alpha: number } {
  const suf = s.map((si, i) => si * uf[i]!);
  const fullRank = m >= n ? s[s.length - 1]! > EPS * m * s[0]! : false;
  const vDot = (coeffs: number[]): number[] =>
    v.map((row) => row.reduce((acc, vij, j) => acc + vij * coeffs[j]!, 0));
  if (fullRank) {
    const p = vDot(uf.map((x, i) => -(x / s[i]!)));
    if (norm(p) <= delta) return { step: p, alpha: 0 };
  }
  const phiAndDerivative = (alpha: number): [number, number] => {
    const denom = s.map((si) => si ** 2 + alpha);
    const pNorm = norm(suf.map((x, i) => x / denom[i]!));
    const phi = pNorm - delta;
    const phiPrime = -suf.reduce((acc, x, i) => acc + x ** 2 / denom[i]! ** 3, 0) / pNorm;
    return [phi, phiPrime];
  };
  let alphaUpper = norm(suf) / delta;
  let alphaLower = 0;
  if (fullRank) {
    const [phi, phiPrime] = phiAndDerivative(0);
    alphaLower = -phi / phiPrime;
  }
  let alpha =
    !fullRank && initialAlpha === 0
      ? Math.max(0.001 * alphaUpper, Math.sqrt(alphaLower * alphaUpper))
      : initialAlpha;
  for (let it = 0; it < 10; it++) {
    if (alpha < alphaLower || alpha > alphaUpper) {
      alpha = Math.max(0.001 * alphaUpper, Math.sqrt(alphaLower * alphaUpper));
    }
    const [phi, phiPrime] = phiAndDerivative(alpha);
    if (phi < 0) alphaUpper = alpha;
    const ratio = phi / phiPrime;
    alphaLower = Math.max(alphaLower, alpha - ratio);
    alpha -= ((phi + delta) * ratio) / delta;
    if (Math.abs(phi) < 0.01 * delta) break;
  }
  const p = vDot(suf.map((x, i) => -(x / (s[i]! ** 2 + alpha))));
  const scale = delta / norm(p);
  return { step: p.map((x) => x * scale), alpha };
}

export interface LeastSquaresResult {
  x: number[];
  cost: number;
  nfev: number;
  status: number;
}

/** scipy.optimize.least_squares(fun, x0) with its defaults (method 'trf', no bounds). */
export function leastSquares(fun: Residuals, x0In: readonly number[]): LeastSquaresResult {
  const ftol = 1e-8;
  const xtol = 1e-8;
  const gtol = 1e-8;
  let x = [...x0In];
  const n = x.length;
  let f = fun(x);
  if (f.some((v) => !Number.isFinite(v))) throw new Error('Residuals are not finite in the initial point.');
  const m = f.length;
  let nfev = 1;
  let jac = jacobian(fun, x, f);
  let cost = 0.5 * dot(f, f);
  const grad = (): number[] =>
    Array.from({ length: n }, (_, i) => jac.reduce((acc, row, r) => acc + row[i]! * f[r]!, 0));
  let g = grad();
  let delta = norm(x);
  if (delta === 0) delta = 1;
  const maxNfev = 100 * n;
  let alpha = 0;
  let status: number | null = null;
  for (;;) {
    const gNorm = Math.max(...g.map(Math.abs));
    if (gNorm < gtol) status = 1;
    if (status !== null || nfev === maxNfev) break;
    const { u, s, v } = svd(jac, n);
    const uf = Array.from({ length: n }, (_, j) => u.reduce((acc, row, r) => acc + row[j]! * f[r]!, 0));
    let actualReduction = -1;
    let xNew = x;
    let fNew = f;
    let costNew = cost;
    while (actualReduction <= 0 && nfev < maxNfev) {
      const tr = trustRegionStep(n, m, uf, s, v, delta, alpha);
      alpha = tr.alpha;
      const step = tr.step;
      const js = jac.map((row) => dot(row, step));
      const predictedReduction = -(0.5 * dot(js, js) + dot(step, g));
      xNew = x.map((xi, i) => xi + step[i]!);
      fNew = fun(xNew);
      nfev++;
      const stepNorm = norm(step);
      if (fNew.some((val) => !Number.isFinite(val))) {
        delta = 0.25 * stepNorm;
        continue;
      }
      costNew = 0.5 * dot(fNew, fNew);
      actualReduction = cost - costNew;
      // update_tr_radius
      let ratio: number;
      if (predictedReduction > 0) ratio = actualReduction / predictedReduction;
      else if (predictedReduction === 0 && actualReduction === 0) ratio = 1;
      else ratio = 0;
      let deltaNew = delta;
      if (ratio < 0.25) deltaNew = 0.25 * stepNorm;
      else if (ratio > 0.75 && stepNorm > 0.95 * delta) deltaNew = delta * 2;
      // check_termination
      const ftolOk = actualReduction < ftol * cost && ratio > 0.25;
      const xtolOk = stepNorm < xtol * (xtol + norm(x));
      if (ftolOk && xtolOk) status = 4;
      else if (ftolOk) status = 2;
      else if (xtolOk) status = 3;
      if (status !== null) break;
      alpha *= delta / deltaNew;
      delta = deltaNew;
    }
    if (actualReduction > 0) {
      x = xNew;
      f = fNew;
      cost = costNew;
      jac = jacobian(fun, x, f);
      g = grad();
    }
  }
  return { x, cost, nfev, status: status ?? 0 };
}
