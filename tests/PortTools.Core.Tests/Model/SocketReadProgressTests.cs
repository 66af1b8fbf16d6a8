using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace PortTools.Tests.Model
{
    public class SocketReadProgressTests
    {
        private static SocketTuple Socket(int port) => new SocketTuple { Protocol = TransportProtocol.Tcp, State = SocketState.Listen, LocalPort = port };

        [Fact]
        public void Hands_over_a_chunk_at_a_time_and_the_rest_when_published()
        {
            var progress = new SocketReadProgress { HandOverSockets = true };
            progress.StartHandOver();
            Assert.True(progress.IsHandingOver);
            for (int port = 0; port < 1300; port++)
            {
                Assert.True(progress.HandOver(Socket(port)));
            }

            Assert.Equal(1024, progress.SocketsReady); // two whole chunks of 512; the third waits
            progress.PublishHandOver();
            Assert.Equal(1300, progress.SocketsReady);
        }

        [Fact]
        public void Each_socket_is_taken_once_in_order_and_let_go_of()
        {
            var progress = new SocketReadProgress { HandOverSockets = true };
            progress.StartHandOver();
            var sockets = Enumerable.Range(0, 5000).Select(Socket).ToList(); // the table of chunks grows several times
            sockets.ForEach(s => progress.HandOver(s));
            progress.PublishHandOver();

            Assert.Equal(sockets, Enumerable.Range(0, progress.SocketsReady).Select(progress.TakeReadySocket));
            Assert.Throws<InvalidOperationException>(() => progress.TakeReadySocket(4999));
            Assert.Throws<ArgumentOutOfRangeException>(() => progress.TakeReadySocket(5000));
            Assert.Throws<ArgumentOutOfRangeException>(() => progress.TakeReadySocket(-1));
        }

        [Fact]
        public void A_taken_socket_is_no_longer_held_by_the_hand_over()
        {
            var progress = new SocketReadProgress { HandOverSockets = true };
            progress.StartHandOver();
            WeakReference taken = HandOverAndTake(progress);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Assert.False(taken.IsAlive);
            GC.KeepAlive(progress);
        }

        // Apart, so that no local of the test keeps the socket alive.
        private static WeakReference HandOverAndTake(SocketReadProgress progress)
        {
            progress.HandOver(Socket(80));
            progress.PublishHandOver();
            return new WeakReference(progress.TakeReadySocket(0));
        }

        [Fact]
        public void Not_asked_for_or_not_started_hands_over_nothing()
        {
            var notAsked = new SocketReadProgress();
            notAsked.StartHandOver();
            Assert.False(notAsked.HandOver(Socket(1)));
            Assert.Equal(0, notAsked.SocketsReady);

            var notStarted = new SocketReadProgress { HandOverSockets = true };
            Assert.False(notStarted.IsHandingOver);
            Assert.False(notStarted.HandOver(Socket(1)));
        }

        [Fact]
        public async Task A_consumer_on_another_thread_takes_every_socket_while_the_table_grows()
        {
            var progress = new SocketReadProgress { HandOverSockets = true };
            progress.StartHandOver();
            const int count = 200_000;
            var done = new ManualResetEventSlim(false);
            var consumer = Task.Run(() =>
            {
                var seen = new List<int>(count);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (seen.Count < count && clock.Elapsed < TimeSpan.FromMinutes(1))
                {
                    bool finished = done.IsSet;
                    for (int ready = progress.SocketsReady; seen.Count < ready;)
                    {
                        seen.Add(progress.TakeReadySocket(seen.Count).LocalPort);
                    }

                    if (finished && seen.Count == progress.SocketsReady)
                    {
                        break;
                    }
                }

                return seen;
            });

            for (int i = 0; i < count; i++)
            {
                progress.HandOver(Socket(i % 65536));
            }

            progress.PublishHandOver();
            done.Set();
            List<int> seen = await consumer; // the consumer gives up after a minute
            Assert.Equal(Enumerable.Range(0, count).Select(i => i % 65536), seen);
        }
    }
}
