// The error function to near double precision, in the two forms the Fink modules need: erf itself (LIA's
// statistics) and ln(erfc) far in the tail (the anomaly features), where erfc is too small for 1 - erf.

const LN_SQRT_PI = 0.5 * Math.log(Math.PI);

/** erf(x) by its Maclaurin series, 2/sqrt(pi) sum_k (-1)^k x^(2k+1) / (k! (2k+1)): for |x| < 2.5. */
function erfSeries(x: number): number {
  let term = x;
  let acc = x;
  const x2 = x * x;
  for (let k = 1; k < 200; k++) {
    term *= -x2 / k;
    const add = term / (2 * k + 1);
    acc += add;
    if (Math.abs(add) < 1e-17 * Math.abs(acc)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * acc;
}

/**
 * ln(erfc(x)) for x >= 2.5, from erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), the
 * continued fraction evaluated by the modified Lentz method.
 */
function lnErfcTail(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - LN_SQRT_PI - Math.log(f);
}

/** erf(x) (the integral LIA evaluates with scipy's quad). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) return erfSeries(x);
  if (ax > 27) return Math.sign(x);
  return Math.sign(x) * (1 - Math.exp(lnErfcTail(ax)));
}

/** ln(erfc(x)), exact far into the tail where erfc(x) underflows 1 - erf(x). */
export function lnErfc(x: number): number {
  if (x < -2.5) return Math.log(2 - Math.exp(lnErfc(-x)));
  if (x < 2.5) return Math.log(1 - erfSeries(x));
  return lnErfcTail(x);
}
