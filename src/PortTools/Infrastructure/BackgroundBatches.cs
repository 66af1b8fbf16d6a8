using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace PortTools.Commands
{
    /// <summary>
    /// Enumerates a sequence on a worker thread and hands its items, in order, to the thread that
    /// takes them (the pipeline thread) in batches, so that producing the items (parsing a file) and
    /// writing them to the pipeline run at the same time. Memory stays flat: a fixed number of batch
    /// arrays circulates between the two threads, and the worker waits when all of them are full.
    /// </summary>
    /// <remarks>
    /// An exception the sequence throws reaches the taker after every item produced before it, and is
    /// rethrown there as it was thrown (same type and stack). <see cref="Dispose"/> stops the worker
    /// and waits for it to exit, so whatever the sequence reads can be closed right after; the
    /// sequence is handed a token that Dispose (or the caller's token) cancels, and must observe it.
    /// </remarks>
    /// <typeparam name="T">The items.</typeparam>
    internal sealed class BackgroundBatches<T> : IDisposable
    {
        /// <summary>Items per batch: enough to make the hand-over cost nothing per item, small enough to stay off the large object heap.</summary>
        internal const int DefaultBatchSize = 1024;

        /// <summary>Batches in circulation: the most the worker can be ahead of the taker.</summary>
        internal const int DefaultBatchCount = 4;

        private readonly BlockingCollection<Batch> _full = new BlockingCollection<Batch>();
        private readonly BlockingCollection<T[]> _empty = new BlockingCollection<T[]>();
        private readonly CancellationTokenSource _stop;
        private readonly Func<int>? _mark;
        private readonly Thread? _worker;

        // With one processor the two threads would only take turns: the items are then produced on the
        // taker's thread, a batch at a time, through the same calls.
        private IEnumerator<T>? _inline;
        private readonly CultureInfo _culture = CultureInfo.CurrentCulture;
        private readonly CultureInfo _uiCulture = CultureInfo.CurrentUICulture;
        private IEnumerable<T>? _source;
        private ExceptionDispatchInfo? _failure;
        private T[]? _taken;
        private int _takenCount;
        private bool _disposed;

        /// <summary>Starts the worker.</summary>
        /// <param name="source">
        /// Called on this thread with the token to observe; the sequence it returns is enumerated on
        /// the worker (an iterator, so that nothing is read before then).
        /// </param>
        /// <param name="cancellation">Stops the worker too (Ctrl+C).</param>
        /// <param name="mark">
        /// Called on the worker as each batch is handed over, its value handed with the batch (the
        /// read position as a percentage, for progress); null for none.
        /// </param>
        /// <param name="batchSize">Items per batch.</param>
        /// <param name="batchCount">Batches in circulation.</param>
        /// <param name="onWorker">Whether a worker thread produces the items; by default, when there is more than one processor.</param>
        public BackgroundBatches(Func<CancellationToken, IEnumerable<T>> source, CancellationToken cancellation, Func<int>? mark = null, int batchSize = DefaultBatchSize, int batchCount = DefaultBatchCount, bool? onWorker = null)
        {
            if (source is null)
            {
                throw new ArgumentNullException(nameof(source));
            }

            if (batchSize < 1 || batchCount < 1)
            {
                throw new ArgumentOutOfRangeException(batchSize < 1 ? nameof(batchSize) : nameof(batchCount), "A batch holds at least one item, and at least one batch circulates.");
            }

            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            _mark = mark;
            for (int i = 0; i < batchCount; i++)
            {
                _empty.Add(new T[batchSize]);
            }

            try
            {
                _source = source(_stop.Token);
                if (onWorker ?? Environment.ProcessorCount > 1)
                {
                    _worker = new Thread(Produce) { IsBackground = true, Name = "PortTools background batches" };
                    _worker.Start();
                }
                else
                {
                    _inline = _source.GetEnumerator();
                    _source = null;
                }
            }
            catch
            {
                _stop.Dispose(); // its registration on the caller's token
                throw;
            }
        }

        /// <summary>
        /// Waits for the next batch, in order. The batch before it is given back to the worker: use a
        /// batch only until the next call.
        /// </summary>
        /// <param name="items">The batch: its first <paramref name="count"/> elements are the items.</param>
        /// <param name="count">How many items the batch holds.</param>
        /// <param name="mark">The value of the mark function when the batch was handed over (-1 without one).</param>
        /// <returns>False when the sequence has ended (every item taken).</returns>
        /// <exception cref="OperationCanceledException">The caller's token was cancelled.</exception>
        /// <remarks>Rethrows, after the last item produced before it, what the sequence threw.</remarks>
        public bool TryTake([NotNullWhen(true)] out T[]? items, out int count, out int mark)
        {
            if (_taken is not null)
            {
                // Written items are let go: a reused array (long-lived, so in an old generation) that still
                // referenced them would keep each one alive through the next collections, promoted.
                Array.Clear(_taken, 0, _takenCount);
                _empty.Add(_taken);
                _taken = null;
            }

            if (_inline is not null)
            {
                return TakeInline(out items, out count, out mark);
            }

            if (_full.TryTake(out Batch batch, Timeout.Infinite, _stop.Token))
            {
                _taken = batch.Items;
                _takenCount = batch.Count;
                items = batch.Items;
                count = batch.Count;
                mark = batch.Mark;
                return true;
            }

            // The worker has finished and every batch is taken: the sequence ended, failed, or was stopped.
            _failure?.Throw();
            _stop.Token.ThrowIfCancellationRequested();
            items = null;
            count = 0;
            mark = -1;
            return false;
        }

        /// <summary>Stops the worker and waits for it to exit.</summary>
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stop.Cancel();
            _worker?.Join();
            _inline?.Dispose();
            _stop.Dispose();
            _full.Dispose();
            _empty.Dispose();
        }

        private bool TakeInline([NotNullWhen(true)] out T[]? items, out int count, out int mark)
        {
            _failure?.Throw();
            T[] batch = _empty.Take();
            int filled = 0;
            try
            {
                while (filled < batch.Length && _inline!.MoveNext())
                {
                    batch[filled++] = _inline.Current;
                }
            }
            catch (Exception exception) when (filled > 0)
            {
                // As on the worker: the items before the failure are taken first, then it is rethrown.
                _failure = ExceptionDispatchInfo.Capture(exception);
            }

            mark = _mark is null ? -1 : _mark();
            if (filled == 0)
            {
                _empty.Add(batch);
                _stop.Token.ThrowIfCancellationRequested();
                items = null;
                count = 0;
                return false;
            }

            _taken = batch;
            _takenCount = filled;
            items = batch;
            count = filled;
            return true;
        }

        private void Produce()
        {
            // Nothing may escape this method: an exception on a thread of its own ends the process.
            try
            {
                CultureInfo.CurrentCulture = _culture;
                CultureInfo.CurrentUICulture = _uiCulture;
                T[]? items = null;
                int count = 0;
                try
                {
                    IEnumerable<T> source = _source!;
                    _source = null;
                    items = _empty.Take(_stop.Token);
                    foreach (T item in source)
                    {
                        items[count++] = item;
                        if (count == items.Length)
                        {
                            Publish(items, count);
                            items = null; // handed over: not to be published again if the next Take fails
                            count = 0;
                            items = _empty.Take(_stop.Token);
                        }
                    }
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    count = 0; // stopped: the taker is gone or going, and wants nothing more
                }
                catch (Exception exception)
                {
                    _failure = ExceptionDispatchInfo.Capture(exception);
                }

                if (items is not null && count > 0)
                {
                    Publish(items, count); // the items before the end, or before the failure
                }
            }
            catch (Exception exception)
            {
                _failure ??= ExceptionDispatchInfo.Capture(exception);
            }
            finally
            {
                _full.CompleteAdding();
            }
        }

        private void Publish(T[] items, int count) => _full.Add(new Batch(items, count, _mark is null ? -1 : _mark()));

        private readonly struct Batch
        {
            public Batch(T[] items, int count, int mark)
            {
                Items = items;
                Count = count;
                Mark = mark;
            }

            public T[] Items { get; }

            public int Count { get; }

            public int Mark { get; }
        }
    }
}
