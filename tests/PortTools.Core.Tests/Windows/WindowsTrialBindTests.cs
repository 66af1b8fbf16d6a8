using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using PortTools.Windows;
using Xunit;
using static PortTools.Tests.Rules.CrossOs.CrossOsTable;

namespace PortTools.Tests.Windows
{
    /// <summary>
    /// The Windows trial bind: which setsockopt calls a request makes (System.Net.Sockets passes
    /// the option names to Winsock unchanged on Windows: "SocketOptionName Enum" on Microsoft Learn
    /// gives ReuseAddress 4 = SO_REUSEADDR, ExclusiveAddressUse -5 = SO_EXCLUSIVEADDRUSE, defined in
    /// winsock2.h as ((int)(~SO_REUSEADDR)), Broadcast 32 = SO_BROADCAST, IPv6Only 27 = IPV6_V6ONLY
    /// at IPPROTO_IPV6 41), the options Windows lacks, and how the kernel's Winsock answer is set
    /// against the rule engine's prediction ("Windows Sockets Error Codes": WSAEACCES 10013,
    /// WSAEINVAL 10022, WSAENOPROTOOPT 10042, WSAEAFNOSUPPORT 10047, WSAEADDRINUSE 10048,
    /// WSAEADDRNOTAVAIL 10049).
    /// </summary>
    public class WindowsTrialBindTests
    {
        private static BindDecision Predict(BindRequest request, params string[] table) =>
            RuleEngine.DecideBindCore(SocketIndex.Build(table.Select(SocketTuple.Parse).ToList(), Facts(TargetOS.Windows)), request);

        private static PortBindResult Combine(BindRequest request, ProbeOutcome trial, params string[] table) =>
            LiveBindCheck.Combine(Predict(request, table), trial, request, TargetOS.Windows);

        [Fact]
        public void Option_names_are_the_Winsock_numbers()
        {
            Assert.Equal(4, (int)SocketOptionName.ReuseAddress);
            Assert.Equal(~4, (int)SocketOptionName.ExclusiveAddressUse);
            Assert.Equal(0x20, (int)SocketOptionName.Broadcast);
            Assert.Equal(27, (int)SocketOptionName.IPv6Only);
            Assert.Equal(41, (int)SocketOptionLevel.IPv6);
            Assert.Equal(0xffff, (int)SocketOptionLevel.Socket);
        }

        [Fact]
        public void Every_requested_option_is_set_in_a_fixed_order()
        {
            var request = new BindRequest { Address = IPAddress.IPv6Any, ReuseAddress = true, ExclusiveAddressUse = true, Broadcast = true, IPv6Only = false };
            Assert.Equal(
                new[]
                {
                    (SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true, "setsockopt(SO_REUSEADDR)"),
                    (SocketOptionLevel.Socket, SocketOptionName.ExclusiveAddressUse, true, "setsockopt(SO_EXCLUSIVEADDRUSE)"),
                    (SocketOptionLevel.Socket, SocketOptionName.Broadcast, true, "setsockopt(SO_BROADCAST)"),
                    (SocketOptionLevel.IPv6, SocketOptionName.IPv6Only, false, "setsockopt(IPV6_V6ONLY)"),
                },
                WindowsTrialBind.Plan(request));
        }

        [Fact]
        public void No_option_leaves_the_defaults_alone()
        {
            Assert.Empty(WindowsTrialBind.Plan(new BindRequest { Address = IPAddress.IPv6Any }));

            // IPV6_V6ONLY belongs to AF_INET6 sockets only.
            Assert.Empty(WindowsTrialBind.Plan(new BindRequest { Address = IPAddress.Any, IPv6Only = true }));
        }

        [Theory]
        [InlineData("reuseport", "SO_REUSEPORT")]
        [InlineData("reuseport_lb", "SO_REUSEPORT_LB")]
        [InlineData("interface", "SO_BINDTODEVICE")]
        [InlineData("freebind", "IP_FREEBIND")]
        public void An_option_Windows_lacks_is_refused_as_WSAENOPROTOOPT_without_a_socket(string option, string name)
        {
            var request = new BindRequest
            {
                Address = IPAddress.Any,
                Port = Port,
                ReusePort = option == "reuseport",
                ReusePortLoadBalance = option == "reuseport_lb",
                Interface = option == "interface" ? "eth0" : null,
                FreeBind = option == "freebind",
            };
            Assert.Equal(name, LiveBindCheck.MissingOption(TargetOS.Windows, request));
            ProbeOutcome refused = LiveBindCheck.Refused(TargetOS.Windows, name);
            Assert.Equal((10042, "setsockopt(" + name + ")", true), (refused.Code, refused.Step, refused.Synthesized));

            // The rule set says the same, so the two agree and the result says no socket was opened.
            PortBindResult result = Combine(request, refused);
            Assert.False(result.CanBind);
            Assert.Equal(("WSAENOPROTOOPT", 10042), (result.Error, result.ErrorCode));
            Assert.Null(result.PredictedError);
            Assert.EndsWith("No trial socket was opened: Windows has no " + name + ", so setsockopt() could only fail with WSAENOPROTOOPT.", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void The_options_Windows_has_are_not_refused()
        {
            Assert.Null(LiveBindCheck.MissingOption(TargetOS.Windows, new BindRequest { ReuseAddress = true, ExclusiveAddressUse = true, Broadcast = true, IPv6Only = true, Address = IPAddress.IPv6Any }));
        }

        [Fact]
        public void Linux_refuses_only_the_Windows_and_FreeBSD_options()
        {
            Assert.Equal("SO_REUSEPORT_LB", LiveBindCheck.MissingOption(TargetOS.Linux, new BindRequest { ReusePortLoadBalance = true, ExclusiveAddressUse = true }));
            Assert.Equal("SO_EXCLUSIVEADDRUSE", LiveBindCheck.MissingOption(TargetOS.Linux, new BindRequest { ExclusiveAddressUse = true }));
            Assert.Null(LiveBindCheck.MissingOption(TargetOS.Linux, new BindRequest { ReuseAddress = true, ReusePort = true, Interface = "lo", FreeBind = true, Broadcast = true }));
            ProbeOutcome refused = LiveBindCheck.Refused(TargetOS.Linux, "SO_EXCLUSIVEADDRUSE");
            Assert.Equal(92, refused.Code);
            Assert.Equal(BindErrorKind.OptionNotSupported, BindErrors.FromLinuxErrno(refused.Code));
        }

        /// <summary>
        /// The probe's own code path (socket, bind, listen, close, the error of the failing step) runs
        /// anywhere: .NET numbers SocketException.ErrorCode as Winsock does on every OS. No option is
        /// set, since off Windows .NET gives ReuseAddress another meaning.
        /// </summary>
        [Fact]
        public void The_probe_reports_the_failing_step_with_its_Winsock_number_and_closes_its_socket()
        {
            using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            holder.Listen(1);
            int port = ((IPEndPoint)holder.LocalEndPoint!).Port;

            ProbeOutcome taken = WindowsTrialBind.Probe(new BindRequest { Address = IPAddress.Loopback, Port = port, Listen = true });
            Assert.Equal((10048, "bind", 0), (taken.Code, taken.Step, taken.BoundPort));

            ProbeOutcome free = WindowsTrialBind.Probe(new BindRequest { Address = IPAddress.Loopback, Port = 0, Listen = true });
            Assert.Equal((0, "listen"), (free.Code, free.Step));
            Assert.NotEqual(0, free.BoundPort);

            // Closed at once: the port it got can be bound again without SO_REUSEADDR.
            using var again = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            again.Bind(new IPEndPoint(IPAddress.Loopback, free.BoundPort));
        }

        [Theory]
        [InlineData(0, BindErrorKind.None)]
        [InlineData(10048, BindErrorKind.AddressInUse)]
        [InlineData(10013, BindErrorKind.AccessDenied)]
        [InlineData(10049, BindErrorKind.AddressNotAvailable)]
        [InlineData(10022, BindErrorKind.InvalidArgument)]
        [InlineData(10042, BindErrorKind.OptionNotSupported)]
        [InlineData(10055, BindErrorKind.NoBufferSpace)]
        public void Winsock_errors_map_to_the_engine_kinds(int error, BindErrorKind kind)
        {
            Assert.Equal(kind, BindErrors.FromWinsockError(error));
            Assert.Equal(kind, BindErrors.FromNative(TargetOS.Windows, error));
        }

        [Theory]
        [InlineData(98)]
        [InlineData(48)]
        [InlineData(10047)]
        public void Numbers_that_are_not_Winsock_bind_errors_map_to_nothing(int error)
        {
            Assert.Null(BindErrors.FromWinsockError(error));
        }

        [Fact]
        public void Agreement_on_success_keeps_the_engine_reason()
        {
            BindRequest request = Bind("0.0.0.0");
            PortBindResult result = Combine(request, new ProbeOutcome(0, "listen", Port));
            Assert.True(result.CanBind);
            Assert.Null(result.Error);
            Assert.Null(result.PredictedError);
            Assert.Equal(BindCheckMethod.Probed, result.Method);
            Assert.Equal(TargetOS.Windows, result.TargetOS);
            Assert.Equal(BindExplanation.ToResult(Predict(request), request, TargetOS.Windows, BindCheckMethod.Probed).Reason, result.Reason);
        }

        [Fact]
        public void Agreement_on_WSAEADDRINUSE_names_the_holder()
        {
            string holder = S("tcp LISTEN 0.0.0.0:P");
            PortBindResult result = Combine(Bind("0.0.0.0"), new ProbeOutcome(10048, "bind", 0), holder);
            Assert.False(result.CanBind);
            Assert.Equal(("WSAEADDRINUSE", 10048), (result.Error, result.ErrorCode));
            Assert.Null(result.PredictedError);
            Assert.Single(result.Conflicts);
            Assert.StartsWith("windows.inuse.", result.Rule, StringComparison.Ordinal);
        }

        [Fact]
        public void A_bind_Windows_allowed_against_a_holder_of_unknown_options_is_explained()
        {
            // A live Windows table never shows SO_REUSEADDR or SO_EXCLUSIVEADDRUSE: the holder's options are unknown.
            const string holder = "tcp LISTEN 0.0.0.0:8080 uid=1000";
            BindRequest request = Bind("0.0.0.0", reuseAddress: true);
            // The engine does not guess: the answer depends on the holder's SO_REUSEADDR, and the trial settles it.
            BindDecision predicted = Predict(request, holder);
            Assert.NotEqual(BindErrorKind.None, predicted.Error);
            Assert.NotEmpty(predicted.DependsOn);
            PortBindResult result = Combine(request, new ProbeOutcome(0, "listen", Port), holder);
            Assert.True(result.CanBind);
            Assert.Null(result.Error);
            Assert.Null(result.PredictedError);
            Assert.StartsWith("The trial bind succeeded, so the options it depended on allow it. The engine's view: ", result.Reason, StringComparison.Ordinal);

            // A plain bind fails against that holder whatever it set: a success then disagrees, and says why it may.
            PortBindResult plain = Combine(Bind("0.0.0.0"), new ProbeOutcome(0, "listen", Port), holder);
            Assert.NotNull(plain.PredictedError);
            Assert.StartsWith("The kernel allowed the bind, although the rule engine predicted " + plain.PredictedError + " from the socket table whatever SO_REUSEADDR or SO_EXCLUSIVEADDRUSE the sockets it names set (the Windows socket table does not show them)", plain.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_failure_the_engine_did_not_predict_shows_both_answers()
        {
            PortBindResult result = Combine(Bind("0.0.0.0"), new ProbeOutcome(10013, "bind", 0));
            Assert.False(result.CanBind);
            Assert.Equal(("WSAEACCES", 10013), (result.Error, result.ErrorCode));
            Assert.Equal("success", result.PredictedError);
            Assert.StartsWith("The kernel answered WSAEACCES at bind, but the rule engine predicted success from the socket table", result.Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void An_error_the_engine_never_predicts_keeps_its_Winsock_name_and_number()
        {
            PortBindResult result = Combine(Bind("::"), new ProbeOutcome(10047, "socket", 0));
            Assert.Equal(("WSAEAFNOSUPPORT", 10047), (result.Error, result.ErrorCode));
            Assert.StartsWith("The kernel answered WSAEAFNOSUPPORT at socket", result.Reason, StringComparison.Ordinal);
            Assert.Equal(("Winsock error 12345", 12345), LiveBindCheck.NativeError(TargetOS.Windows, null, 12345));
        }

        [Fact]
        public void Port_0_reports_the_port_Windows_picked()
        {
            PortBindResult result = Combine(Bind("0.0.0.0", port: 0), new ProbeOutcome(0, "listen", 50123));
            Assert.True(result.CanBind);
            Assert.Contains("The kernel assigned port 50123 to the trial socket.", result.Reason, StringComparison.Ordinal);
        }

        [WindowsFact]
        public void Live_trial_binds_agree_with_the_engine_on_loopback()
        {
            using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            holder.Listen(1);
            int port = ((IPEndPoint)holder.LocalEndPoint!).Port;
            SocketIndex index = SocketIndex.Build(LiveSocketTable.Read(new SocketQuery()).Sockets, HostFacts.From(SocketHost.Read()), SocketTableOrder.KernelOrder);

            PortBindResult taken = LiveBindCheck.Probe(index, new BindRequest { Address = IPAddress.Loopback, Port = port, Listen = true });
            Assert.Equal(("WSAEADDRINUSE", 10048), (taken.Error, taken.ErrorCode));
            Assert.Null(taken.PredictedError);

            PortBindResult free = LiveBindCheck.Probe(index, new BindRequest { Address = IPAddress.Loopback, Port = 0, Listen = true });
            Assert.True(free.CanBind, free.Reason);
            Assert.Contains("The kernel assigned port", free.Reason, StringComparison.Ordinal);

            PortBindResult reusePort = LiveBindCheck.Probe(index, new BindRequest { Address = IPAddress.Loopback, Port = port, ReusePort = true });
            Assert.Equal(("WSAENOPROTOOPT", 10042), (reusePort.Error, reusePort.ErrorCode));
            Assert.Contains("No trial socket was opened", reusePort.Reason, StringComparison.Ordinal);
        }
}
}
