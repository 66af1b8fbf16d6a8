using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;

namespace PortTools.Commands
{
    /// <summary>
    /// Test-PortBind: would bind() (and listen()) succeed? On the live host by a real trial bind
    /// explained by the rule engine; with -SocketTable by the rule engine alone.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "PortBind", DefaultParameterSetName = ProbeSet)]
    [OutputType(typeof(PortBindResult))]
    [OutputType(typeof(bool))]
    public sealed class TestPortBindCommand : PortToolsCmdlet
    {
        private const string ProbeSet = "Probe";
        private const string SimulateSet = "Simulate";

        private SocketIndex? _index;
        private string? _computerName;

        /// <summary>The ports to check; 0 asks whether the kernel can pick one.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("LocalPort")]
        [ValidateRange(0, 65535)]
        public int[] Port { get; set; } = Array.Empty<int>();

        /// <summary>The address to bind; 0.0.0.0 by default. An IPv6 address makes an IPv6 socket.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(LocalAddressCompleter))]
        [ValidateNotNull]
        public IPAddress Address { get; set; } = IPAddress.Any;

        /// <summary>TCP (the default) or UDP.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public TransportProtocol Protocol { get; set; } = TransportProtocol.Tcp;

        /// <summary>Set SO_REUSEADDR.</summary>
        [Parameter]
        public SwitchParameter ReuseAddress { get; set; }

        /// <summary>Set SO_REUSEPORT.</summary>
        [Parameter]
        public SwitchParameter ReusePort { get; set; }

        /// <summary>SO_REUSEPORT_LB: join a load-balancing group (FreeBSD 12 and later; elsewhere ENOPROTOOPT).</summary>
        [Parameter]
        public SwitchParameter ReusePortLoadBalance { get; set; }

        /// <summary>SO_EXCLUSIVEADDRUSE: no later socket may share the port (Windows; elsewhere ENOPROTOOPT).</summary>
        [Parameter]
        public SwitchParameter ExclusiveAddressUse { get; set; }

        /// <summary>SO_BROADCAST, which Windows needs to bind a broadcast address.</summary>
        [Parameter]
        public SwitchParameter Broadcast { get; set; }

        /// <summary>IP_FREEBIND (Linux) or IP_BINDANY (FreeBSD): allow an address this host does not have.</summary>
        [Parameter]
        public SwitchParameter FreeBind { get; set; }

        /// <summary>IPV6_V6ONLY for an IPv6 address: -IPv6Only sets it, -IPv6Only:$false clears it, omitted leaves the OS default.</summary>
        [Parameter]
        public SwitchParameter IPv6Only { get; set; }

        /// <summary>Bind to this device (SO_BINDTODEVICE).</summary>
        [Parameter]
        [ArgumentCompleter(typeof(InterfaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? Interface { get; set; }

        /// <summary>Also call listen() (TCP), which checks conflicts again.</summary>
        [Parameter]
        public SwitchParameter Listen { get; set; }

        /// <summary>Write only $true or $false per port.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>Simulate against this table instead of binding on this host: SocketTuples, their text form, or objects that carry them.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SimulateSet)]
        [AllowEmptyCollection]
        public PSObject[] SocketTable { get; set; } = Array.Empty<PSObject>();

        /// <summary>
        /// The facts of the host the table belongs to: a SocketHost from Get-SocketHost (run there, or
        /// with -NetworkNamespace), an object that carries one (remoting, Import-Clixml,
        /// ConvertFrom-Json) or its JSON text. Without it, the facts are those of the namespace this
        /// session read the table from, or else unknown.
        /// </summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ValidateNotNull]
        public PSObject? SocketHost { get; set; }

        /// <summary>
        /// A network namespace of this host (Linux): a name, a /proc/[pid]/ns/net path, or a process id.
        /// The trial bind happens inside it, against its table and facts; with -SocketTable, its facts are used.
        /// </summary>
        [Parameter]
        [ArgumentCompleter(typeof(NetworkNamespaceCompleter))]
        [ValidateNotNullOrEmpty]
        public string? NetworkNamespace { get; set; }

        /// <summary>The simulated host's addresses (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ArgumentCompleter(typeof(LocalAddressCompleter))]
        public IPAddress[]? LocalAddress { get; set; }

        /// <summary>The simulated net.ipv4.ip_unprivileged_port_start (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ValidateRange(0, 65536)]
        public int UnprivilegedPortStart { get; set; }

        /// <summary>The simulated ephemeral port range, such as 32768-60999 (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public PortRange EphemeralPortRange { get; set; }

        /// <summary>The simulated user id that binds (default: the SocketHost's; unknown without one). Any uid but 0 is unprivileged unless -Privileged says otherwise.</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        [ValidateRange(0L, 4294967295L)]
        public long UserId { get; set; }

        /// <summary>Whether the simulated user may bind privileged ports (default: the SocketHost's, or as -UserId implies; unknown without either).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter Privileged { get; set; }

        /// <summary>Whose rules to simulate: Linux, Windows, FreeBSD or MacOS (default: the SocketHost's OS, else this host's).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public TargetOS TargetOS { get; set; }

        /// <summary>The simulated net.ipv4.ip_nonlocal_bind (and net.ipv6.ip_nonlocal_bind): an address the host does not have may be bound (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter NonLocalBind { get; set; }

        /// <summary>The simulated net.ipv4.ip_autobind_reuse: bind(0) with SO_REUSEADDR may share a port once none is free (default: the SocketHost's; unknown without one).</summary>
        [Parameter(ParameterSetName = SimulateSet)]
        public SwitchParameter AutobindReuse { get; set; }

        /// <inheritdoc/>
        protected override void BeginProcessing()
        {
            if (ParameterSetName == SimulateSet)
            {
                List<SocketTuple> table = SocketTableInput.Convert(SocketTable, WriteError);
                _computerName = SocketTableInput.CommonComputerName(table);
                TargetOS? os = Bound(nameof(TargetOS)) ? TargetOS : null;
                SocketHost host = SimulationHost(SocketHost, NetworkNamespace, table, os).With(
                    LocalAddress,
                    Bound(nameof(UnprivilegedPortStart)) ? UnprivilegedPortStart : null,
                    Bound(nameof(EphemeralPortRange)) ? EphemeralPortRange : null,
                    Bound(nameof(UserId)) ? UserId : null,
                    Bound(nameof(Privileged)) ? Privileged.IsPresent : null,
                    nonLocalBind: Bound(nameof(NonLocalBind)) ? NonLocalBind.IsPresent : null,
                    autobindReuse: Bound(nameof(AutobindReuse)) ? AutobindReuse.IsPresent : null);
                host = host.With(os: os ?? host.OS ?? TargetOSInfo.Current);
                _index = SocketIndex.Build(table, HostFacts.From(host), SocketTableOrder.BindOrder);
                return;
            }

            try
            {
                SocketHost host = ReadSocketHost(NetworkNamespace);
                SocketTableReadResult live = ReadLiveTable(new SocketQuery { NetworkNamespace = NetworkNamespace });
                foreach (string warning in live.Warnings)
                {
                    WriteWarning(warning);
                }

                _index = SocketIndex.Build(live.Sockets, HostFacts.From(host), SocketTableOrder.KernelOrder);
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception exception) when (exception is not PipelineStoppedException)
            {
                ThrowCoreError(exception, "SocketTableReadFailed", null);
            }
        }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (_index is null)
            {
                return;
            }

            if (IPv6Only.IsPresent && Address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                WriteError(new ErrorRecord(new ArgumentException("-IPv6Only applies to IPv6 addresses, but " + Address + " is IPv4."), "IPv6OnlyNeedsIPv6Address", ErrorCategory.InvalidArgument, Address));
                return;
            }

            foreach (int port in Port)
            {
                if (CancellationToken.IsCancellationRequested)
                {
                    return;
                }

                var request = new BindRequest
                {
                    Protocol = Protocol,
                    Address = Address,
                    Port = port,
                    ReuseAddress = ReuseAddress.IsPresent,
                    ReusePort = ReusePort.IsPresent,
                    ReusePortLoadBalance = ReusePortLoadBalance.IsPresent,
                    ExclusiveAddressUse = ExclusiveAddressUse.IsPresent,
                    Broadcast = Broadcast.IsPresent,
                    FreeBind = FreeBind.IsPresent,
                    IPv6Only = Address.AddressFamily == AddressFamily.InterNetworkV6 && Bound(nameof(IPv6Only)) ? IPv6Only.IsPresent : null,
                    Interface = Interface,
                    Listen = Listen.IsPresent,
                };

                PortBindResult result;
                try
                {
                    result = ParameterSetName == SimulateSet ? RuleEngine.DecideBind(_index, request, _computerName) : LiveBindCheck.Probe(_index, request, NetworkNamespace);
                }
                catch (Exception exception) when (exception is PlatformNotSupportedException or NetworkNamespaceException)
                {
                    ThrowCoreError(exception, "PlatformNotSupported", port);
                    return;
                }
                catch (Exception exception) when (exception is ArgumentException or FormatException)
                {
                    WriteCoreError(exception, "InvalidBindRequest", port);
                    continue;
                }

                if (Quiet.IsPresent)
                {
                    // -Quiet promises a bool: an answer that turns on unknown facts is not a yes.
                    if (result.CanBind is null)
                    {
                        WriteWarning(result + ": the answer depends on what is not known; $false is written. Run without -Quiet for the reason.");
                    }

                    WriteObject(result.CanBind == true);
                }
                else
                {
                    WriteObject(result);
                }

                CountItemProgress("ports checked");
            }
        }

        /// <inheritdoc/>
        protected override void EndProcessing() => CompleteItemProgress();

        private bool Bound(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);
    }
}
