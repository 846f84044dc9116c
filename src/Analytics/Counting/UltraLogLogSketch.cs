using System.Numerics;
using System.Runtime.CompilerServices;

namespace ReviewOrleans.Analytics.Counting;

/// <summary>
/// UltraLogLog distinct-count sketch with 2^14 one-byte registers (16 KiB): O. Ertl, "UltraLogLog: A Practical and
/// More Space-Efficient Alternative to HyperLogLog for Approximate Distinct Counting", PVLDB 17(7), 2024 (reference
/// implementation: hash4j's <c>UltraLogLog</c>). Like HyperLogLog each register keeps the largest update value
/// u = 1 + leading zeros of the hash bits below the register index, and in addition whether u−1 and u−2 were seen:
/// <c>register = 4u + 2·[u−1 seen] + [u−2 seen]</c>. The extra two bits cut the variance so that at the same 16 KiB
/// the relative standard error is about 0.6% instead of HyperLogLog's 0.81% (1.04/√16384).
/// <para>
/// The estimate is the maximum-likelihood estimate under the Poisson model (Ertl, "New cardinality estimation
/// algorithms for HyperLogLog sketches", arXiv:1702.01284, 2017, the ML method; the ULL paper applies it to ULL
/// registers): with rate λ per register, value k has probability ρ(k) = 2^−k (the last value 2^−(k−1)), each register
/// tells which of its values were seen and which were not, and the log-likelihood
/// <c>−λ·α + Σ_k β_k·ln(1 − e^(−λ·ρ(k)))</c> (α = summed ρ of values known unseen, β_k = registers that saw k) is
/// maximised by a bisection on ln λ. The estimate is m·λ; its error is flat across cardinalities.
/// </para>
/// </summary>
internal sealed class UltraLogLogSketch
{
    /// <summary>Index bits p; m = 2^p registers.</summary>
    public const int Precision = 14;

    /// <summary>Number of registers.</summary>
    public const int RegisterCount = 1 << Precision;

    /// <summary>Largest update value: 1 + the 64 − p hash bits below the index.</summary>
    private const int MaxValue = 64 - Precision + 1;

    private readonly byte[] _registers = new byte[RegisterCount];

    /// <summary>Register bytes, for serialisation.</summary>
    public ReadOnlySpan<byte> Registers => _registers;

    /// <summary>Adds a 64-bit hash: the top p bits pick the register, the rest give the update value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(ulong hash)
    {
        var index = (int)(hash >> (64 - Precision));
        // The sentinel bit caps the leading-zero count at 64 − p, so values run 1..MaxValue.
        var value = BitOperations.LeadingZeroCount((hash << Precision) | (1UL << (Precision - 1))) + 1;
        ref var register = ref _registers[index];
        var current = register;
        if (value + 2 < current >> 2)
        {
            return; // below the window of tracked values: the common case once the sketch fills
        }
        register = Encode(Decode(current) | (1UL << value));
    }

    /// <summary>Register-wise union; equal to a sketch built over both inputs.</summary>
    public void Merge(UltraLogLogSketch other)
    {
        var mine = _registers;
        var theirs = other._registers;
        for (var i = 0; i < mine.Length; i++)
        {
            if (mine[i] != theirs[i])
            {
                mine[i] = Encode(Decode(mine[i]) | Decode(theirs[i]));
            }
        }
    }

    /// <summary>Loads saved registers, rejecting bytes that no sequence of updates can produce.</summary>
    public void Load(ReadOnlySpan<byte> registers)
    {
        for (var i = 0; i < RegisterCount; i++)
        {
            var r = registers[i];
            var u = r >> 2;
            // Valid: empty, or 1 <= u <= MaxValue with no flag for a value below 1.
            var valid = r == 0 || (u >= 1 && u <= MaxValue && (u > 2 || (r & (u == 1 ? 3 : 1)) == 0));
            if (!valid)
            {
                throw new ArgumentException($"Corrupt saved state: register {i} holds {r}, which no UltraLogLog update produces.", "bytes");
            }
        }
        registers[..RegisterCount].CopyTo(_registers);
    }

    /// <summary>Bit k of the result is set when update value k is known to have been seen.</summary>
    private static ulong Decode(byte register)
    {
        if (register == 0)
        {
            return 0;
        }
        var u = register >> 2;
        return (1UL << u) | ((ulong)(register & 3) << (u - 2));
    }

    private static byte Encode(ulong seen)
    {
        if (seen == 0)
        {
            return 0;
        }
        var u = 63 - BitOperations.LeadingZeroCount(seen);
        // Bits for u−1 and u−2; a shift below bit 0 (u < 2) only brings in zeros because bit 0 is never set.
        var window = u >= 2 ? (seen >> (u - 2)) & 3 : (seen << (2 - u)) & 3;
        return (byte)((u << 2) | (int)window);
    }

    /// <summary>Maximum-likelihood estimate of the number of distinct hashes added.</summary>
    public double Estimate()
    {
        Span<long> seenCount = stackalloc long[MaxValue + 1];
        seenCount.Clear();
        double unseenMass = 0; // α: sum of ρ(k) over values known unseen

        var empty = true;
        foreach (var register in _registers)
        {
            if (register == 0)
            {
                unseenMass += 1.0; // every value unseen: Σ_k ρ(k) = 1
                continue;
            }
            empty = false;
            var u = register >> 2;
            seenCount[u]++;
            if (u < MaxValue)
            {
                unseenMass += Math.ScaleB(1.0, -u); // Σ_{k>u} ρ(k) = 2^-u
            }
            if (u >= 2)
            {
                if ((register & 2) != 0)
                {
                    seenCount[u - 1]++;
                }
                else
                {
                    unseenMass += Probability(u - 1);
                }
            }
            if (u >= 3)
            {
                if ((register & 1) != 0)
                {
                    seenCount[u - 2]++;
                }
                else
                {
                    unseenMass += Probability(u - 2);
                }
            }
        }
        if (empty)
        {
            return 0;
        }
        if (unseenMass <= 0)
        {
            return double.PositiveInfinity;
        }

        // d/dλ ln L = −α + Σ_k β_k·ρ_k / (e^(λρ_k) − 1): strictly decreasing in λ, so bisect on ln λ.
        double lo = Math.Log(1e-12), hi = Math.Log(1e20);
        for (var iteration = 0; iteration < 200 && hi - lo > 1e-13; iteration++)
        {
            var mid = 0.5 * (lo + hi);
            var lambda = Math.Exp(mid);
            double slope = -unseenMass;
            for (var k = 1; k <= MaxValue; k++)
            {
                if (seenCount[k] != 0)
                {
                    var rho = Probability(k);
                    slope += seenCount[k] * rho / double.ExpM1(lambda * rho);
                }
            }
            if (slope > 0)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }
        return RegisterCount * Math.Exp(0.5 * (lo + hi));
    }

    private static double Probability(int value) => Math.ScaleB(1.0, -Math.Min(value, MaxValue - 1));
}
