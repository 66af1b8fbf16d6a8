using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PortTools
{
    /// <summary>
    /// The canonical text form of a socket:
    /// <c>&lt;tcp|udp&gt; &lt;STATE&gt; &lt;local&gt; [&lt;remote&gt;] [reuseaddr|noreuseaddr] [reuseport|noreuseport] [reuseport_lb|noreuseport_lb] [exclusiveaddruse|noexclusiveaddruse] [v6only|nov6only] [dev=&lt;name&gt;] [netns=[&lt;name&gt;:]&lt;inode&gt;] [container=&lt;runtime&gt;:&lt;id&gt;] [timer=&lt;on|keepalive|timewait|persist&gt;,&lt;seconds&gt;s,&lt;count&gt;] [uid=&lt;n&gt;] [pid=&lt;n&gt;[,&lt;n&gt;...]] [process=&lt;name&gt;[,&lt;name&gt;...]]</c>.
    /// A flag left out means "unknown", which the rule engines treat as off. "*" as the local host is
    /// the dual-stack wildcard (ss prints [::] with IPV6_V6ONLY off that way).
    /// </summary>
    internal static class SocketTupleText
    {
        public static string Format(SocketTuple socket)
        {
            var text = new StringBuilder(64);
            text.Append(socket.Protocol == TransportProtocol.Tcp ? "tcp " : "udp ");
            text.Append(SocketStateNames.ToCanonical(socket.Protocol, socket.State)).Append(' ');
            text.Append(socket.Local);
            if (socket.HasRemote)
            {
                text.Append(' ').Append(socket.Remote);
            }

            AppendFlag(text, socket.ReuseAddress, "reuseaddr");
            AppendFlag(text, socket.ReusePort, "reuseport");
            AppendFlag(text, socket.ReusePortLoadBalance, "reuseport_lb");
            AppendFlag(text, socket.ExclusiveAddressUse, "exclusiveaddruse");
            AppendFlag(text, socket.IPv6Only, "v6only");
            if (socket.BoundInterface is not null)
            {
                text.Append(" dev=").Append(Escape(socket.BoundInterface));
            }

            if (socket.NetworkNamespace is NetworkNamespaceInfo space)
            {
                text.Append(" netns=").Append(Escape(space.ToString()));
            }

            if (socket.Container is ContainerInfo container)
            {
                text.Append(" container=").Append(Escape(container.ToString()));
            }

            // No pending timer is left out, like an unknown one: listeners would all carry timer=off.
            if (socket.Timer is SocketTimer timer && timer != SocketTimer.None)
            {
                AppendTimer(text, timer, socket.TimerExpiresIn, socket.Retransmits);
            }

            if (socket.UserId is long uid)
            {
                text.Append(" uid=").Append(uid.ToString(CultureInfo.InvariantCulture));
            }

            IReadOnlyList<SocketOwner> owners = socket.Processes;
            if (owners.Count > 0)
            {
                text.Append(" pid=");
                for (int i = 0; i < owners.Count; i++)
                {
                    text.Append(i == 0 ? string.Empty : ",").Append(owners[i].ProcessId.ToString(CultureInfo.InvariantCulture));
                }

                AppendProcessNames(text, owners);
            }

            return text.ToString();
        }

        /// <summary>"timer=timewait,52.3s,0", as ss -o's "timer:(timewait,52sec,0)" with the expiry to the millisecond.</summary>
        private static void AppendTimer(StringBuilder text, SocketTimer timer, TimeSpan? expiresIn, int? count)
        {
            text.Append(" timer=").Append(SocketTimerNames.ToSs(timer));
            if (timer == SocketTimer.None)
            {
                return;
            }

            long milliseconds = (long)Math.Round((expiresIn ?? TimeSpan.Zero).TotalMilliseconds);
            text.Append(',').Append((milliseconds / 1000.0).ToString("0.###", CultureInfo.InvariantCulture)).Append("s,")
                .Append((count ?? 0).ToString(CultureInfo.InvariantCulture));
        }

        private static void AppendFlag(StringBuilder text, bool? value, string name)
        {
            if (value.HasValue)
            {
                text.Append(value.Value ? " " : " no").Append(name);
            }
        }

        private static void AppendProcessNames(StringBuilder text, IReadOnlyList<SocketOwner> owners)
        {
            bool anyName = false;
            bool allSame = true;
            foreach (SocketOwner owner in owners)
            {
                anyName |= owner.ProcessName is not null;
                allSame &= string.Equals(owner.ProcessName, owners[0].ProcessName, StringComparison.Ordinal);
            }

            if (!anyName)
            {
                return;
            }

            text.Append(" process=");
            if (allSame)
            {
                text.Append(Escape(owners[0].ProcessName!));
                return;
            }

            for (int i = 0; i < owners.Count; i++)
            {
                text.Append(i == 0 ? string.Empty : ",").Append(owners[i].ProcessName is null ? string.Empty : Escape(owners[i].ProcessName!));
            }
        }

        public static SocketTuple Parse(string text)
        {
            if (!TryParse(text, out SocketTuple? socket, out string? error))
            {
                throw new FormatException(error);
            }

            return socket;
        }

        public static bool TryParse(string? text, [NotNullWhen(true)] out SocketTuple? socket, [NotNullWhen(false)] out string? error)
        {
            socket = null;
            string[] tokens = (text ?? string.Empty).Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length < 3)
            {
                error = Fail(text, "expected at least a protocol, a state and a local endpoint, as in 'tcp LISTEN 0.0.0.0:8080'");
                return false;
            }

            TransportProtocol protocol;
            if (string.Equals(tokens[0], "tcp", StringComparison.OrdinalIgnoreCase))
            {
                protocol = TransportProtocol.Tcp;
            }
            else if (string.Equals(tokens[0], "udp", StringComparison.OrdinalIgnoreCase))
            {
                protocol = TransportProtocol.Udp;
            }
            else
            {
                error = Fail(text, "unknown protocol '" + tokens[0] + "': expected tcp or udp");
                return false;
            }

            if (!SocketStateNames.TryParse(tokens[1], protocol, out SocketState state, out string? stateError))
            {
                error = Fail(text, stateError);
                return false;
            }

            if (!IPAddressText.TryParseEndpoint(tokens[2], allowWildcardPort: false, out IPAddress? localAddress, out int localPort, out bool dualStack, out string? endpointError))
            {
                error = Fail(text, "bad local endpoint '" + tokens[2] + "': " + endpointError);
                return false;
            }

            IPAddress? remoteAddress = null;
            int remotePort = 0;
            int next = 3;
            if (tokens.Length > 3 && tokens[3].IndexOf(':') >= 0 && tokens[3].IndexOf('=') < 0)
            {
                if (!IPAddressText.TryParseEndpoint(tokens[3], allowWildcardPort: true, out remoteAddress, out remotePort, out bool remoteIsStar, out endpointError))
                {
                    error = Fail(text, "bad remote endpoint '" + tokens[3] + "': " + endpointError);
                    return false;
                }

                if (remoteIsStar)
                {
                    remoteAddress = null;
                }
                else if (remoteAddress.AddressFamily != localAddress.AddressFamily)
                {
                    error = Fail(text, "remote endpoint '" + tokens[3] + "' is " + FamilyName(remoteAddress) + " but the local endpoint is " + FamilyName(localAddress));
                    return false;
                }

                next = 4;
            }

            var options = new Options();
            if (dualStack)
            {
                options.IPv6Only = false;
            }

            for (int i = next; i < tokens.Length; i++)
            {
                if (!options.Apply(tokens[i], localAddress, out string? optionError))
                {
                    error = Fail(text, optionError);
                    return false;
                }
            }

            if (options.ProcessNames is not null && options.ProcessIds is null)
            {
                error = Fail(text, "'process=' needs 'pid=': a process name belongs to a process id");
                return false;
            }

            SocketOwner[] owners = Array.Empty<SocketOwner>();
            if (options.ProcessIds is not null)
            {
                string?[]? names = options.ProcessNames;
                if (names is not null && names.Length != 1 && names.Length != options.ProcessIds.Length)
                {
                    error = Fail(text, "'process=' lists " + names.Length.ToString(CultureInfo.InvariantCulture) + " names for " + options.ProcessIds.Length.ToString(CultureInfo.InvariantCulture) + " pids: give one name for all, or one per pid");
                    return false;
                }

                owners = new SocketOwner[options.ProcessIds.Length];
                for (int i = 0; i < owners.Length; i++)
                {
                    string? name = names is null ? null : names.Length == 1 ? names[0] : names[i];
                    owners[i] = new SocketOwner(options.ProcessIds[i], name);
                }
            }

            socket = new SocketTuple
            {
                Protocol = protocol,
                State = state,
                LocalAddress = localAddress,
                LocalPort = localPort,
                RemoteAddress = remoteAddress!,
                RemotePort = remotePort,
                ReuseAddress = options.ReuseAddress,
                ReusePort = options.ReusePort,
                ReusePortLoadBalance = options.ReusePortLoadBalance,
                ExclusiveAddressUse = options.ExclusiveAddressUse,
                IPv6Only = options.IPv6Only,
                BoundInterface = options.Device,
                NetworkNamespace = options.NetworkNamespace,
                Container = options.Container,
                UserId = options.UserId,
                Processes = owners,
                Timer = options.Timer,
                TimerExpiresIn = options.TimerExpiresIn,
                Retransmits = options.Retransmits,
            };
            error = null;
            return true;
        }

        private static string FamilyName(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

        private static string Fail(string? text, string detail) => "Cannot parse socket text '" + text + "': " + detail + ".";

        /// <summary>Percent-escapes the characters that would break the token grammar.</summary>
        internal static string Escape(string value)
        {
            StringBuilder? escaped = null;
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                bool needs = c <= ' ' || c == '%' || c == ',' || c == '=' || c == 0x7F;
                if (needs)
                {
                    escaped ??= new StringBuilder(value, 0, i, value.Length + 8);
                    foreach (byte b in Encoding.UTF8.GetBytes(c.ToString()))
                    {
                        escaped.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
                    }
                }
                else
                {
                    escaped?.Append(c);
                }
            }

            return escaped?.ToString() ?? value;
        }

        internal static bool TryUnescape(string value, [NotNullWhen(true)] out string? result)
        {
            result = null;
            if (value.IndexOf('%') < 0)
            {
                result = value;
                return true;
            }

            var bytes = new List<byte>(value.Length);
            for (int i = 0; i < value.Length; i++)
            {
                if (value[i] == '%')
                {
                    if (i + 2 >= value.Length || !byte.TryParse(value.Substring(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
                    {
                        return false;
                    }

                    bytes.Add(b);
                    i += 2;
                }
                else
                {
                    bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
                }
            }

            result = Encoding.UTF8.GetString(bytes.ToArray());
            return true;
        }

        private sealed class Options
        {
            private bool TryTimer(string token, string value, [NotNullWhen(false)] out string? error)
            {
                error = null;
                string[] parts = value.Split(',');
                if (!SocketTimerNames.TryParse(parts[0], out SocketTimer timer))
                {
                    error = "'" + token + "' names no timer: expected off, on, keepalive, timewait or persist";
                    return false;
                }

                if (timer == SocketTimer.None)
                {
                    if (parts.Length != 1)
                    {
                        error = "'" + token + "' gives an expiry to no timer: write timer=off";
                        return false;
                    }

                    Timer = timer;
                    return true;
                }

                if (parts.Length != 3 || !parts[1].EndsWith("s", StringComparison.Ordinal)
                    || !decimal.TryParse(parts[1].Substring(0, parts[1].Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal seconds)
                    || seconds > 4294967m
                    || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
                {
                    error = "'" + token + "' needs the timer, the seconds until it fires and its count, as in timer=timewait,52.3s,0";
                    return false;
                }

                Timer = timer;
                TimerExpiresIn = TimeSpan.FromMilliseconds((double)Math.Round(seconds * 1000m));
                Retransmits = count;
                return true;
            }

            private readonly HashSet<string> _seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

            public bool? ReuseAddress { get; private set; }

            public bool? ReusePort { get; private set; }

            public bool? ReusePortLoadBalance { get; private set; }

            public bool? ExclusiveAddressUse { get; private set; }

            public bool? IPv6Only { get; set; }

            public string? Device { get; private set; }

            public NetworkNamespaceInfo? NetworkNamespace { get; private set; }

            public ContainerInfo? Container { get; private set; }

            public long? UserId { get; private set; }

            public SocketTimer? Timer { get; private set; }

            public TimeSpan? TimerExpiresIn { get; private set; }

            public int? Retransmits { get; private set; }

            public int[]? ProcessIds { get; private set; }

            public string?[]? ProcessNames { get; private set; }

            public bool Apply(string token, IPAddress local, [NotNullWhen(false)] out string? error)
            {
                int equals = token.IndexOf('=');
                string key = equals < 0 ? token.ToLowerInvariant() : token.Substring(0, equals).ToLowerInvariant();
                string value = equals < 0 ? string.Empty : token.Substring(equals + 1);
                string family = key.StartsWith("no", StringComparison.Ordinal) && equals < 0 ? key.Substring(2) : key;
                if (!_seen.Add(family))
                {
                    error = "'" + token + "' repeats or contradicts an earlier " + family + " token";
                    return false;
                }

                error = null;
                switch (key)
                {
                    case "reuseaddr":
                    case "noreuseaddr":
                        ReuseAddress = key == "reuseaddr";
                        return true;
                    case "reuseport":
                    case "noreuseport":
                        ReusePort = key == "reuseport";
                        return true;
                    case "reuseport_lb":
                    case "noreuseport_lb":
                        ReusePortLoadBalance = key == "reuseport_lb";
                        return true;
                    case "exclusiveaddruse":
                    case "noexclusiveaddruse":
                        ExclusiveAddressUse = key == "exclusiveaddruse";
                        return true;
                    case "v6only":
                    case "nov6only":
                        if (local.AddressFamily != AddressFamily.InterNetworkV6)
                        {
                            error = "'" + token + "' applies only to IPv6 sockets, but the local address " + local + " is IPv4";
                            return false;
                        }

                        IPv6Only = key == "v6only";
                        return true;
                    case "dev":
                        if (value.Length == 0 || !TryUnescape(value, out string? device))
                        {
                            error = "'" + token + "' needs an interface name, as in dev=eth0";
                            return false;
                        }

                        Device = device;
                        return true;
                    case "netns":
                        if (!TryUnescape(value, out string? space) || !NetworkNamespaceInfo.TryParse(space, out NetworkNamespaceInfo? info))
                        {
                            error = "'" + token + "' needs a network namespace's inode number, optionally after its name, as in netns=4026532301 or netns=red:4026532301";
                            return false;
                        }

                        NetworkNamespace = info;
                        return true;
                    case "container":
                        if (!TryUnescape(value, out string? containerText) || !ContainerInfo.TryParse(containerText, out ContainerInfo? container))
                        {
                            error = "'" + token + "' needs a container as runtime:id (container=docker:3f2a...), with %20 before pod:uid";
                            return false;
                        }

                        Container = container;
                        return true;
                    case "timer":
                        return TryTimer(token, value, out error);
                    case "uid":
                        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long uid) || uid > uint.MaxValue)
                        {
                            error = "'" + token + "' needs a user id from 0 to 4294967295, as in uid=1000";
                            return false;
                        }

                        UserId = uid;
                        return true;
                    case "pid":
                        string[] pidTexts = value.Split(',');
                        var pids = new int[pidTexts.Length];
                        for (int i = 0; i < pids.Length; i++)
                        {
                            if (!int.TryParse(pidTexts[i], NumberStyles.None, CultureInfo.InvariantCulture, out pids[i]))
                            {
                                error = "'" + token + "' needs process ids, as in pid=812 or pid=812,813";
                                return false;
                            }
                        }

                        ProcessIds = pids;
                        return true;
                    case "process":
                        string[] nameTexts = value.Split(',');
                        var names = new string?[nameTexts.Length];
                        for (int i = 0; i < names.Length; i++)
                        {
                            if (!TryUnescape(nameTexts[i], out string? name))
                            {
                                error = "'" + token + "' has a bad %-escape";
                                return false;
                            }

                            names[i] = name.Length == 0 ? null : name;
                        }

                        if (value.Length == 0)
                        {
                            error = "'" + token + "' needs a process name, as in process=nginx";
                            return false;
                        }

                        ProcessNames = names;
                        return true;
                    default:
                        error = "unknown token '" + token + "': expected reuseaddr, reuseport, reuseport_lb, exclusiveaddruse, v6only (or noreuseaddr, noreuseport, noreuseport_lb, noexclusiveaddruse, nov6only), dev=<name>, netns=<inode>, container=<runtime:id>, timer=<name>,<seconds>s,<count>, uid=<n>, pid=<n> or process=<name>";
                        return false;
                }
            }
        }
    }
}
