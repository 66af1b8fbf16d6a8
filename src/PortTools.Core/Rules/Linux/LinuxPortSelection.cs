using System;
using System.Collections;
using System.Collections.Generic;

namespace PortTools.Rules.Linux
{
    /// <summary>Whether a port can be taken: surely, surely not, or depending on what is not known.</summary>
    internal enum PortUse : byte
    {
        No,
        Yes,
        Maybe,
    }

    /// <summary>Says of each port whether the call being simulated can take it.</summary>
    internal abstract class PortClassifier
    {
        public abstract PortUse Classify(int port);

        /// <summary>Counts the ports first, first + step, ... up to last that can (yes) and may (maybe) be taken.</summary>
        public abstract void Count(int first, int last, int step, out int yes, out int maybe);

        /// <summary>Counts both parities of low..high: [0] low's parity, [1] the other (one pass where the classifier can).</summary>
        public virtual void CountParities(int low, int high, out (int Yes, int Maybe) lowParity, out (int Yes, int Maybe) otherParity)
        {
            Count(low, high - ((high - low) & 1), 2, out int yes, out int maybe);
            lowParity = (yes, maybe);
            if (low + 1 > high)
            {
                otherParity = (0, 0);
                return;
            }

            Count(low + 1, high - ((high - low - 1) & 1), 2, out yes, out maybe);
            otherParity = (yes, maybe);
        }
    }

    /// <summary>
    /// One range the kernel scans in one attempt (kernel-rules.md 1C). With parity, it steps by 2:
    /// connect() (__inet_hash_connect) over the ports of low's parity first, bind(0)
    /// (inet_csk_find_open_port) over the other parity first. Both round the range's size down to
    /// an even number, so in a range of odd size one port of low's parity is left out of each
    /// call: high in a range of 3 ports, always; in larger ones low (most offsets) or high (an offset
    /// of 0), as the per-boot hash (connect()) or a random number (bind(0)) decides.
    /// </summary>
    internal readonly struct ScanSegment
    {
        public ScanSegment(int low, int high, bool parity, bool lowParityFirst)
        {
            Low = low;
            High = high;
            Parity = parity;
            LowParityFirst = lowParityFirst;
        }

        public int Low { get; }

        public int High { get; }

        /// <summary>Stepping by 2 over one parity, then the other; else by 1 over all (IP_LOCAL_PORT_RANGE for connect()).</summary>
        public bool Parity { get; }

        public bool LowParityFirst { get; }

        public int Size => High - Low + 1;

        /// <summary>Each call leaves out low or high, which one the offset decides.</summary>
        public bool HasEdges => Parity && Size >= 5 && (Size & 1) == 1;

        /// <summary>A range of 3 ports: high is never tried.</summary>
        public bool HighNeverTried => Parity && Size == 3;
    }

    /// <summary>
    /// What the kernel's scan of a set of segments gives, over every offset it might start from:
    /// how many calls in a row find a port (at least, at most), whether the first call surely finds
    /// one, and which ports it may take.
    /// </summary>
    internal sealed class ScanAnalysis
    {
        // At most four classes (two segments of two parities), kept inline: most decisions never read them.
        private (int First, int Last, int Step, int ExcludedHigh) _class0;
        private (int First, int Last, int Step, int ExcludedHigh) _class1;
        private (int First, int Last, int Step, int ExcludedHigh) _class2;
        private (int First, int Last, int Step, int ExcludedHigh) _class3;
        private int _classes;

        private ScanAnalysis(PortClassifier classifier)
        {
            Classifier = classifier;
        }

        public PortClassifier Classifier { get; }

        /// <summary>Calls in a row that surely find a port.</summary>
        public int Min { get; private set; }

        /// <summary>Calls in a row that may find a port.</summary>
        public int Max { get; private set; }

        /// <summary>Ports that surely can be taken, counted once (ports never tried left out).</summary>
        public int Certain { get; private set; }

        /// <summary>Ports that may be taken, depending on what is not known.</summary>
        public int Uncertain { get; private set; }

        /// <summary>The first call surely finds a port.</summary>
        public bool FirstCertain { get; private set; }

        /// <summary>How many ports the first call may take.</summary>
        public int CandidateCount { get; private set; }

        /// <summary>Whether the offset the scan starts from (the per-boot hash, or a random number) decides something: a port left out at one edge.</summary>
        public bool OffsetDecides { get; private set; }

        /// <summary>Ports of low's parity that a range of 3 never tries (its high end), when they are free.</summary>
        public int NeverTried { get; private set; }

        public static ScanAnalysis Analyze(ReadOnlySpan<ScanSegment> segments, PortClassifier classifier)
        {
            var analysis = new ScanAnalysis(classifier);
            bool reachable = true;
            foreach (ScanSegment segment in segments)
            {
                if (!segment.Parity)
                {
                    analysis.Class(segment, segment.Low, 1, lowParity: false, ref reachable);
                    continue;
                }

                int lowClass = segment.Low;
                int otherClass = segment.Low + 1;
                classifier.CountParities(segment.Low, segment.High, out (int Yes, int Maybe) lowCounts, out (int Yes, int Maybe) otherCounts);
                if (segment.LowParityFirst)
                {
                    analysis.Class(segment, lowClass, 2, lowParity: true, ref reachable, lowCounts);
                    analysis.Class(segment, otherClass, 2, lowParity: false, ref reachable, otherCounts);
                }
                else
                {
                    analysis.Class(segment, otherClass, 2, lowParity: false, ref reachable, otherCounts);
                    analysis.Class(segment, lowClass, 2, lowParity: true, ref reachable, lowCounts);
                }
            }

            analysis.FirstCertain = !reachable;
            return analysis;
        }

        /// <summary>The ports the first call may take, ascending; built when first read.</summary>
        public IReadOnlyList<int> Candidates() => new LazyPortList(this);

        /// <summary>Every port the first call may take, ascending: a walk over the classes it may reach.</summary>
        internal int[] EnumerateCandidates()
        {
            var ports = new List<int>();
            for (int c = 0; c < _classes; c++)
            {
                (int first, int last, int step, int excludedHigh) = c switch { 0 => _class0, 1 => _class1, 2 => _class2, _ => _class3 };
                for (int port = first; port <= last; port += step)
                {
                    if (port != excludedHigh && Classifier.Classify(port) != PortUse.No)
                    {
                        ports.Add(port);
                    }
                }
            }

            ports.Sort();
            return ports.ToArray();
        }

        private void Class(ScanSegment segment, int first, int step, bool lowParity, ref bool reachable, (int Yes, int Maybe)? counted = null)
        {
            int last = segment.High - ((segment.High - first) % step);
            if (first > segment.High)
            {
                return;
            }

            int yes;
            int maybe;
            if (counted is (int countedYes, int countedMaybe))
            {
                (yes, maybe) = (countedYes, countedMaybe);
            }
            else
            {
                Classifier.Count(first, last, step, out yes, out maybe);
            }

            int excludedHigh = -1;
            bool highCounted = false; // a port counted in yes or maybe that the first call never takes
            bool canFallThrough = yes == 0;
            int loss = 0;
            if (lowParity && segment.HighNeverTried)
            {
                PortUse high = Classifier.Classify(segment.High);
                yes -= high == PortUse.Yes ? 1 : 0;
                maybe -= high == PortUse.Maybe ? 1 : 0;
                NeverTried += high != PortUse.No ? 1 : 0;
                excludedHigh = segment.High;
                canFallThrough = yes == 0;
            }
            else if (lowParity && segment.HasEdges)
            {
                PortUse low = Classifier.Classify(segment.Low);
                PortUse high = Classifier.Classify(segment.High);
                int certainEdges = (low == PortUse.Yes ? 1 : 0) + (high == PortUse.Yes ? 1 : 0);

                // The offset leaves low out (most offsets) or high (offset 0); only an edge port left alone can be missed.
                canFallThrough = yes == 0 || (yes == 1 && certainEdges == 1);
                loss = certainEdges > 0 ? 1 : 0;
                OffsetDecides |= loss > 0 || (canFallThrough && yes == 1);

                // High comes after high - 2 in the scan, so it is taken first only when high - 2 may be taken by nobody.
                if (high != PortUse.No && Classifier.Classify(segment.High - 2) == PortUse.Yes)
                {
                    excludedHigh = segment.High;
                    highCounted = true;
                }
            }

            Certain += yes;
            Uncertain += maybe;
            Min += yes - loss;
            Max += yes + maybe;
            if (reachable)
            {
                var reached = (first, last, step, excludedHigh);
                switch (_classes++)
                {
                    case 0: _class0 = reached; break;
                    case 1: _class1 = reached; break;
                    case 2: _class2 = reached; break;
                    default: _class3 = reached; break;
                }

                CandidateCount += yes + maybe - (highCounted ? 1 : 0);
                reachable = canFallThrough;
            }
        }
    }

    /// <summary>A list of ports computed when first read: a decision for a free range names thousands of candidates and should not pay for them.</summary>
    internal sealed class LazyPortList : IReadOnlyList<int>
    {
        private readonly ScanAnalysis _scan;
        private int[]? _ports;

        public LazyPortList(ScanAnalysis scan)
        {
            _scan = scan;
        }

        public int Count => Ports.Length;

        private int[] Ports => _ports ??= _scan.EnumerateCandidates();

        public int this[int index] => Ports[index];

        public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)Ports).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
