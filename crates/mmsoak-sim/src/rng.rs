//! A small seeded random number generator (xoshiro256** seeded by
//! splitmix64), so a run depends on nothing but its seed.

/// One step of splitmix64.
/// The top 53 bits of `bits` as a uniform number in [0, 1) (exact: the
/// scaling is by a power of two).
pub(crate) fn unit_f64(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of iteration `iteration` of a run seeded with `seed`.
pub fn iteration_seed(seed: u64, iteration: u32) -> u64 {
    let mut s = seed;
    let a = splitmix64(&mut s);
    let mut t = a ^ u64::from(iteration).wrapping_mul(0xD1B5_4A32_D192_ED03);
    splitmix64(&mut t)
}

/// xoshiro256**.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator for `seed` and a stream label (independent streams per use).
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut sm = seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F);
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        unit_f64(self.next_u64())
    }

    /// Uniform in (0, 1].
    pub(crate) fn uniform_open(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// Standard normal (Box-Muller; one value per call, deterministic).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = self.uniform_open();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Exponential with the given mean.
    pub(crate) fn exponential(&mut self, mean: f64) -> f64 {
        -mean * self.uniform_open().ln()
    }

    /// `true` with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// +1 or -1 with equal probability.
    pub(crate) fn sign(&mut self) -> f64 {
        if self.next_u64() & 1 == 0 {
            1.0
        } else {
            -1.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::new(7, 1);
        let mut b = Rng::new(7, 1);
        let mut c = Rng::new(7, 2);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn iteration_seeds_differ_by_iteration_and_seed() {
        assert_ne!(iteration_seed(1, 1), iteration_seed(1, 2));
        assert_ne!(iteration_seed(1, 1), iteration_seed(2, 1));
        assert_eq!(iteration_seed(5, 3), iteration_seed(5, 3));
    }

    #[test]
    fn uniform_and_normal_have_sane_moments() {
        let mut r = Rng::new(42, 0);
        let n = 20_000;
        let mean_u: f64 = (0..n).map(|_| r.uniform()).sum::<f64>() / f64::from(n);
        assert!((mean_u - 0.5).abs() < 0.01, "{mean_u}");
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let m = xs.iter().sum::<f64>() / f64::from(n);
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / f64::from(n);
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05, "{m} {v}");
        let e: f64 = (0..n).map(|_| r.exponential(2.0)).sum::<f64>() / f64::from(n);
        assert!((e - 2.0).abs() < 0.08, "{e}");
    }
}
