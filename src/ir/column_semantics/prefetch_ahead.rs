//! The rows a kernel reads next, asked for a share at a time while a scan's groups compute.
//!
//! A block's stages read the input columns in one loop and then run the scans on L1
//! buffers, touching no new memory for a while; the next block's loads then all miss at once,
//! and the core's miss buffers take them a few at a time. Asked for here, a share per group of
//! the scans' work, the lines arrive while the groups' arithmetic runs. A hint only: a
//! prefetch reads nothing the program sees and never faults, so no bit and no bound depends
//! on it.

/// Byte ranges (at most [`PrefetchAhead::MAX_RANGES`]) to ask the CPU to load, spread over a
/// number of steps: each [`step`](PrefetchAhead::step) asks for the next share of their cache
/// lines, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefetchAhead {
    /// `(address, bytes)` of each range; only the first `count` are used.
    ranges: [(usize, usize); PrefetchAhead::MAX_RANGES],
    count: usize,
    /// The next line: the range it is in and its offset there.
    range: usize,
    offset: usize,
    /// Bytes a step asks for (whole lines).
    share: usize,
}

impl PrefetchAhead {
    /// The most ranges one schedule holds (a kernel's first input columns).
    pub const MAX_RANGES: usize = 4;
    /// Bytes a prefetch brings in: a cache line on every x86-64 the groups run on.
    const LINE: usize = 64;

    /// Nothing to ask for: every step does nothing.
    pub fn none() -> PrefetchAhead {
        PrefetchAhead::default()
    }

    /// The ranges `(address, bytes)`, beyond the first [`MAX_RANGES`](Self::MAX_RANGES)
    /// ignored, asked for in one step until [`spread_over`](Self::spread_over) says how
    /// many steps to take.
    pub fn new(ranges: &[(usize, usize)]) -> PrefetchAhead {
        let mut ahead = PrefetchAhead::none();
        for (slot, &range) in ahead.ranges.iter_mut().zip(ranges) {
            *slot = range;
            ahead.count += 1;
        }
        ahead.spread_over(1);
        ahead
    }

    /// What is left to ask for, spread evenly over `steps` more steps (at least one).
    pub fn spread_over(&mut self, steps: usize) {
        let left: usize = (self.range..self.count)
            // The offset passes the range's end after its last line (a step's share is whole
            // lines, a range need not be).
            .map(|range| {
                self.ranges[range].1.saturating_sub(if range == self.range { self.offset } else { 0 })
            })
            .sum();
        self.share = left.div_ceil(steps.max(1)).div_ceil(Self::LINE) * Self::LINE;
    }

    /// Asks for the next share of the lines.
    // Only the AVX2 window-sum groups (x86-64) step through a schedule.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    #[inline]
    pub fn step(&mut self) {
        self.walk_share(prefetch);
    }

    /// Hands the address of each line of the next share to `ask`, in order, and moves past it.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    #[inline(always)]
    fn walk_share(&mut self, mut ask: impl FnMut(usize)) {
        let mut budget = self.share;
        while budget > 0 && self.range < self.count {
            let (address, bytes) = self.ranges[self.range];
            if self.offset >= bytes {
                (self.range, self.offset) = (self.range + 1, 0);
                continue;
            }
            ask(address.wrapping_add(self.offset));
            self.offset += Self::LINE;
            budget = budget.saturating_sub(Self::LINE);
        }
    }
}

/// Asks the CPU to load the line holding `address` into its caches.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[inline(always)]
fn prefetch(address: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch neither reads for the program nor faults, whatever the address
    // (SSE, part of x86-64's baseline).
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines each of `steps` steps asks for.
    fn lines_of_steps(mut ahead: PrefetchAhead, steps: usize) -> Vec<Vec<usize>> {
        (0..steps)
            .map(|_| {
                let mut lines = Vec::new();
                ahead.walk_share(|address| lines.push(address));
                lines
            })
            .collect()
    }

    #[test]
    fn steps_ask_for_every_line_of_every_range_once_in_order_and_evenly() {
        // Two 3840-byte ranges (a 480-row f64 block of two columns) over 12 steps: 120 lines,
        // 10 a step.
        let mut ahead = PrefetchAhead::new(&[(1 << 20, 3840), (1 << 24, 3840)]);
        ahead.spread_over(12);
        let steps = lines_of_steps(ahead, 13);
        assert!(steps[..12].iter().all(|lines| lines.len() == 10), "{steps:?}");
        assert!(steps[12].is_empty());
        let all: Vec<usize> = steps.concat();
        let expected: Vec<usize> = (0..60)
            .map(|line| (1 << 20) + 64 * line)
            .chain((0..60).map(|line| (1 << 24) + 64 * line))
            .collect();
        assert_eq!(all, expected);
    }

    #[test]
    fn spreading_again_shares_out_what_is_left() {
        let mut ahead = PrefetchAhead::new(&[(4096, 640)]);
        ahead.spread_over(5);
        assert_eq!(ahead.share, 128);
        ahead.step();
        ahead.spread_over(2);
        assert_eq!(ahead.share, 256);
        let rest: Vec<usize> = lines_of_steps(ahead, 3).concat();
        assert_eq!(rest, (2..10).map(|line| 4096 + 64 * line).collect::<Vec<_>>());
    }

    #[test]
    fn spreading_again_after_a_ranges_last_line_counts_nothing_left_of_it() {
        // 100 bytes: two lines, the second ending past the range's end.
        let mut ahead = PrefetchAhead::new(&[(4096, 100), (8192, 128)]);
        ahead.spread_over(2);
        assert_eq!(ahead.share, 128);
        ahead.step();
        ahead.spread_over(1);
        assert_eq!(ahead.share, 128);
        assert_eq!(lines_of_steps(ahead, 2).concat(), vec![8192, 8192 + 64]);
    }

    #[test]
    fn none_and_empty_ranges_ask_for_nothing_and_extra_ranges_are_ignored() {
        assert!(lines_of_steps(PrefetchAhead::none(), 3).concat().is_empty());
        assert!(lines_of_steps(PrefetchAhead::new(&[(64, 0), (128, 0)]), 2).concat().is_empty());
        let five: Vec<(usize, usize)> = (1..=5).map(|range| (range << 12, 64)).collect();
        let lines = lines_of_steps(PrefetchAhead::new(&five), 1).concat();
        assert_eq!(lines, vec![1 << 12, 2 << 12, 3 << 12, 4 << 12]);
    }
}
