using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace PortTools.Tests.Ports
{
    /// <summary>The thin runner behind reading Windows and BSD port settings, run here with POSIX sh, sleep and a missing file.</summary>
    public class HostCommandTests
    {
        private static string? Find(string name)
        {
            foreach (string directory in new[] { "/bin", "/usr/bin" })
            {
                string path = Path.Combine(directory, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }

            return null;
        }

        [Fact]
        public void Collects_both_outputs_and_the_exit_code()
        {
            string? sh = Find("sh");
            if (sh is null || OperatingSystem.IsWindows())
            {
                return;
            }

            CommandOutput output = HostCommand.Run(sh, "-c \"echo 'Start Port : 49152'; echo oops 1>&2; exit 3\"", HostCommand.Timeout);
            Assert.Null(output.Failure);
            Assert.False(output.Succeeded);
            Assert.Equal(3, output.ExitCode);
            Assert.Equal("Start Port : 49152\n", output.Output);
            Assert.Equal("oops\n", output.ErrorOutput);
            Assert.Equal("exit code 3: oops", output.Problem());
        }

        [Fact]
        public void A_command_that_succeeds_has_no_problem_to_report()
        {
            string? sh = Find("sh");
            if (sh is null || OperatingSystem.IsWindows())
            {
                return;
            }

            CommandOutput output = HostCommand.Run(sh, "-c \"echo net.inet.tcp.msl: 15000\"", HostCommand.Timeout);
            Assert.True(output.Succeeded);
            Assert.Equal("net.inet.tcp.msl: 15000\n", output.Output);
        }

        [Fact]
        public void A_missing_program_is_a_failure_not_an_exception()
        {
            CommandOutput output = HostCommand.Run(Path.Combine(Path.GetTempPath(), "porttools-no-such-program-" + Guid.NewGuid().ToString("N")), string.Empty, HostCommand.Timeout);
            Assert.False(output.Succeeded);
            Assert.StartsWith("it could not be run: ", output.Failure, StringComparison.Ordinal);
            Assert.False(output.Failure!.EndsWith(".", StringComparison.Ordinal));
            Assert.Equal(output.Failure, output.Problem());
        }

        [Fact]
        public void A_command_that_hangs_is_stopped_at_the_time_limit()
        {
            string? sleep = Find("sleep");
            if (sleep is null || OperatingSystem.IsWindows())
            {
                return;
            }

            var clock = Stopwatch.StartNew();
            CommandOutput output = HostCommand.Run(sleep, "30", TimeSpan.FromMilliseconds(300));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the runner waited " + clock.Elapsed);
            Assert.Equal("it did not finish within 0.3 s", output.Failure);
        }

        [Theory]
        [InlineData("", null)]
        [InlineData("\r\n  \r\n", null)]
        [InlineData("\r\nThe requested operation requires elevation.\r\n\r\n", "The requested operation requires elevation.")]
        public void The_first_line_is_the_first_that_is_not_blank(string text, string? expected)
        {
            Assert.Equal(expected, CommandOutput.FirstLine(text));
        }
    }
}
