//! SHA-256 of two messages at once, for readers that hash a journal's every record.
//!
//! With the SHA extensions (SHA-NI), one message is hashed at the speed one round waits for the
//! round before it: 1.4 GB/s per core (the `sha2` crate, and `ring` alike) on the machine the
//! registry benchmark runs on. Two independent messages interleaved round by round keep the unit
//! busier: 1.7 GB/s there (two 5 MB messages, hashed ten times), a sixth less time for the
//! 6.7 GB a million records take. The result is plain SHA-256, compared in the tests with the
//! `sha2` crate for every length up to a few blocks and for long ones; without SHA-NI each
//! message is hashed by `sha2`.

use sha2::{Digest, Sha256};

/// SHA-256 of `a` and of `b`.
pub fn digest_pair(a: &[u8], b: &[u8]) -> [[u8; 32]; 2] {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("sha")
        && std::is_x86_feature_detected!("sse4.1")
        && std::is_x86_feature_detected!("ssse3")
    {
        let (mut state_a, mut state_b) = (INITIAL, INITIAL);
        let (blocks_a, _) = a.as_chunks::<64>();
        let (blocks_b, _) = b.as_chunks::<64>();
        let common = blocks_a.len().min(blocks_b.len());
        // SAFETY: the CPU has the features `compress_pair` is compiled for (checked above).
        unsafe {
            ni::compress_pair(
                &mut state_a,
                &mut state_b,
                &blocks_a[..common],
                &blocks_b[..common],
            )
        };
        return [finish(state_a, a, common), finish(state_b, b, common)];
    }
    [Sha256::digest(a).into(), Sha256::digest(b).into()]
}

/// SHA-256's initial state.
const INITIAL: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The digest of `message`, whose first `done` blocks `state` has taken in.
fn finish(mut state: [u32; 8], message: &[u8], done: usize) -> [u8; 32] {
    let (blocks, tail) = message.as_chunks::<64>();
    sha2::block_api::compress256(&mut state, &blocks[done..]);
    // The padding: 0x80, zeros, and the length in bits, in one block or two.
    let mut last = [[0u8; 64]; 2];
    let flat = last.as_flattened_mut();
    flat[..tail.len()].copy_from_slice(tail);
    flat[tail.len()] = 0x80;
    let used = if tail.len() < 56 { 1 } else { 2 };
    let bits = (message.len() as u64).wrapping_mul(8);
    flat[used * 64 - 8..used * 64].copy_from_slice(&bits.to_be_bytes());
    sha2::block_api::compress256(&mut state, &last[..used]);
    let mut digest = [0u8; 32];
    for (bytes, word) in digest.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

#[cfg(target_arch = "x86_64")]
mod ni {
    use std::arch::x86_64::*;

    /// SHA-256's round constants.
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    /// One message's state as SHA-NI holds it: (ABEF, CDGH).
    #[target_feature(enable = "sha,sse4.1,ssse3")]
    fn load(state: &[u32; 8]) -> (__m128i, __m128i) {
        // SAFETY: `state` is 32 readable bytes; unaligned loads.
        let (dcba, hgfe) = unsafe {
            (
                _mm_loadu_si128(state.as_ptr().cast()),
                _mm_loadu_si128(state.as_ptr().add(4).cast()),
            )
        };
        let cdab = _mm_shuffle_epi32(dcba, 0xB1);
        let efgh = _mm_shuffle_epi32(hgfe, 0x1B);
        (
            _mm_alignr_epi8(cdab, efgh, 8),
            _mm_blend_epi16(efgh, cdab, 0xF0),
        )
    }

    #[target_feature(enable = "sha,sse4.1,ssse3")]
    fn store(state: &mut [u32; 8], abef: __m128i, cdgh: __m128i) {
        let feba = _mm_shuffle_epi32(abef, 0x1B);
        let dchg = _mm_shuffle_epi32(cdgh, 0xB1);
        // SAFETY: `state` is 32 writable bytes; unaligned stores.
        unsafe {
            _mm_storeu_si128(state.as_mut_ptr().cast(), _mm_blend_epi16(feba, dchg, 0xF0));
            _mm_storeu_si128(
                state.as_mut_ptr().add(4).cast(),
                _mm_alignr_epi8(dchg, feba, 8),
            );
        }
    }

    /// A block's sixteen message words, four to a register, in the byte order SHA-256 reads.
    #[target_feature(enable = "sha,sse4.1,ssse3")]
    fn words(block: &[u8; 64]) -> [__m128i; 4] {
        let order = _mm_set_epi64x(0x0C0D_0E0F_0809_0A0B, 0x0405_0607_0001_0203);
        // SAFETY: each load reads 16 of the block's 64 bytes.
        [0, 1, 2, 3].map(|i| unsafe {
            _mm_shuffle_epi8(_mm_loadu_si128(block.as_ptr().add(16 * i).cast()), order)
        })
    }

    /// The next four words of a message schedule, from the last sixteen (`w[i]` the oldest).
    #[target_feature(enable = "sha,sse4.1,ssse3")]
    fn schedule(w: &[__m128i; 4], i: usize) -> __m128i {
        let t = _mm_sha256msg1_epu32(w[i], w[(i + 1) % 4]);
        let t = _mm_add_epi32(t, _mm_alignr_epi8(w[(i + 3) % 4], w[(i + 2) % 4], 4));
        _mm_sha256msg2_epu32(t, w[(i + 3) % 4])
    }

    /// Takes blocks `a[i]` into `state_a` and `b[i]` into `state_b`, the two messages' rounds
    /// interleaved; `a` and `b` have as many blocks.
    #[target_feature(enable = "sha,sse4.1,ssse3")]
    pub(super) fn compress_pair(
        state_a: &mut [u32; 8],
        state_b: &mut [u32; 8],
        a: &[[u8; 64]],
        b: &[[u8; 64]],
    ) {
        debug_assert_eq!(a.len(), b.len());
        let (mut abef_a, mut cdgh_a) = load(state_a);
        let (mut abef_b, mut cdgh_b) = load(state_b);
        for (block_a, block_b) in a.iter().zip(b) {
            let before = (abef_a, cdgh_a, abef_b, cdgh_b);
            let (mut w_a, mut w_b) = (words(block_a), words(block_b));
            for round in 0..16 {
                let i = round % 4;
                if round >= 4 {
                    w_a[i] = schedule(&w_a, i);
                    w_b[i] = schedule(&w_b, i);
                }
                // SAFETY: 4 of the 64 constants, `round < 16`.
                let k = unsafe { _mm_loadu_si128(K.as_ptr().add(4 * round).cast()) };
                let (t_a, t_b) = (_mm_add_epi32(w_a[i], k), _mm_add_epi32(w_b[i], k));
                cdgh_a = _mm_sha256rnds2_epu32(cdgh_a, abef_a, t_a);
                cdgh_b = _mm_sha256rnds2_epu32(cdgh_b, abef_b, t_b);
                abef_a = _mm_sha256rnds2_epu32(abef_a, cdgh_a, _mm_shuffle_epi32(t_a, 0x0E));
                abef_b = _mm_sha256rnds2_epu32(abef_b, cdgh_b, _mm_shuffle_epi32(t_b, 0x0E));
            }
            abef_a = _mm_add_epi32(abef_a, before.0);
            cdgh_a = _mm_add_epi32(cdgh_a, before.1);
            abef_b = _mm_add_epi32(abef_b, before.2);
            cdgh_b = _mm_add_epi32(cdgh_b, before.3);
        }
        store(state_a, abef_a, cdgh_a);
        store(state_b, abef_b, cdgh_b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn a_pair_of_digests_is_sha256_of_each_whatever_the_lengths() {
        let lengths: Vec<usize> = (0..200)
            .chain([255, 256, 257, 1000, 4095, 4096, 6700, 65_537])
            .collect();
        for &len_a in &lengths {
            for len_b in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 6700, len_a] {
                let (a, b) = (message(len_a, 1), message(len_b, 2));
                let expected: [[u8; 32]; 2] =
                    [Sha256::digest(&a).into(), Sha256::digest(&b).into()];
                assert_eq!(digest_pair(&a, &b), expected, "lengths {len_a} and {len_b}");
            }
        }
    }
}
