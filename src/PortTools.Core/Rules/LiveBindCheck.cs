using System;
using System.Globalization;
using PortTools.Linux;

namespace PortTools
{
    /// <summary>What a trial bind on this host answered, in the host's own error numbers.</summary>
    internal readonly struct ProbeOutcome
    {
        public ProbeOutcome(int code, string step, int boundPort, string? note = null, bool synthesized = false)
        {
            Code = code;
            Step = step;
            BoundPort = boundPort;
            Note = note;
            Synthesized = synthesized;
        }

        /// <summary>0 on success, else the error of the step that failed: an errno (Linux, macOS) or a Winsock error (Windows).</summary>
        public int Code { get; }

        /// <summary>The call that failed (socket, setsockopt(...), bind, listen), or "listen"/"bind" when all succeeded.</summary>
        public string Step { get; }

        /// <summary>The port the socket got (the kernel's pick for port 0), or 0.</summary>
        public int BoundPort { get; }

        /// <summary>A sentence added to the reason: why PortTools answered for the OS without making the call, or null.</summary>
        public string? Note { get; }

        /// <summary>
        /// Whether PortTools gave the answer without making the failing call (an option the OS does not
        /// have, an interface that does not exist): the call could only fail, and this is how.
        /// </summary>
        public bool Synthesized { get; }

        /// <summary>The outcome of a Linux trial bind.</summary>
        public static ProbeOutcome FromLinux(TrialBindOutcome trial) => new ProbeOutcome(trial.Errno, trial.Step, trial.BoundPort);
    }

    /// <summary>
    /// Test-PortBind on the live host: a real trial bind (and listen) with the requested options,
    /// closed at once, explained by the rule engine against the live table. When the kernel and the
    /// engine disagree, both answers are reported. Linux, Windows and macOS have a trial bind.
    /// </summary>
    public static class LiveBindCheck
    {
        /// <summary>Binds for real and explains the outcome.</summary>
        /// <param name="index">The live table and host facts; the facts must be this host's OS.</param>
        /// <param name="request">The socket to try.</param>
        /// <returns>The kernel's answer with the engine's explanation.</returns>
        /// <exception cref="PlatformNotSupportedException">There is no trial bind for this OS (FreeBSD).</exception>
        /// <exception cref="ArgumentException">The facts are for another OS than this host's.</exception>
        public static PortBindResult Probe(SocketIndex index, BindRequest request) => Probe(index, request, null);

        /// <summary>Binds for real inside a Linux network namespace (or on this host when null) and explains the outcome.</summary>
        /// <param name="index">The namespace's live table and host facts.</param>
        /// <param name="request">The socket to try.</param>
        /// <param name="networkNamespace">A name, a namespace file path or a process id; null for this host.</param>
        /// <returns>The kernel's answer with the engine's explanation.</returns>
        /// <exception cref="NetworkNamespaceException">The namespace does not exist or cannot be entered.</exception>
        /// <exception cref="PlatformNotSupportedException">There is no trial bind for this OS, or a namespace was asked for off Linux.</exception>
        public static PortBindResult Probe(SocketIndex index, BindRequest request, string? networkNamespace)
        {
            if (index is null)
            {
                throw new ArgumentNullException(nameof(index));
            }

            if (request is null)
            {
                throw new ArgumentNullException(nameof(request));
            }

            TargetOS host = TargetOSInfo.Current;
            if (networkNamespace is not null && host != TargetOS.Linux)
            {
                throw new PlatformNotSupportedException("Network namespaces exist only on Linux; a trial bind cannot enter one on " + OsBindText.Name(host) + ".");
            }

            if (host == TargetOS.FreeBSD)
            {
                throw new PlatformNotSupportedException("A trial bind is available on Linux, Windows and macOS in this version; give -SocketTable to simulate instead.");
            }

            if (index.Facts.OS != host)
            {
                throw new ArgumentException("A trial bind runs on this host, which is " + OsBindText.Name(host) + ", but the facts are for " + OsBindText.Name(index.Facts.OS) + "; simulate another OS with a socket table instead.", nameof(index));
            }

            BindDecision predicted = RuleEngine.DecideBindCore(index, request);
            ProbeOutcome trial = MissingOption(host, request) is string option ? Refused(host, option) : host switch
            {
                TargetOS.Windows => Windows.WindowsTrialBind.Probe(request),
                TargetOS.MacOS => MacOS.MacTrialBind.Probe(request),
                _ => ProbeOutcome.FromLinux(networkNamespace is null ? LinuxTrialBind.Probe(request) : NetworkNamespace.Resolve(networkNamespace).Run(() => LinuxTrialBind.Probe(request))),
            };
            return Combine(predicted, trial, request, host);
        }

        /// <summary>
        /// The first requested option that <paramref name="os"/> does not have, as its C name, or null.
        /// setsockopt() with an option the OS does not know fails with ENOPROTOOPT (WSAENOPROTOOPT on
        /// Windows, which "SOL_SOCKET socket options" on Microsoft Learn documents for an unknown
        /// option), so the trial answers that without opening a socket rather than ignoring the
        /// option. The order follows each rule set's checks, so both name the same option.
        /// </summary>
        internal static string? MissingOption(TargetOS os, BindRequest request) => os switch
        {
            TargetOS.Windows => request.ReusePort ? "SO_REUSEPORT"
                : request.ReusePortLoadBalance ? "SO_REUSEPORT_LB"
                : request.Interface is not null ? "SO_BINDTODEVICE"
                : request.FreeBind ? "IP_FREEBIND" : null,
            TargetOS.MacOS => request.ReusePortLoadBalance ? "SO_REUSEPORT_LB"
                : request.ExclusiveAddressUse ? "SO_EXCLUSIVEADDRUSE"
                : request.FreeBind ? "IP_FREEBIND" : null,
            TargetOS.FreeBSD => request.ExclusiveAddressUse ? "SO_EXCLUSIVEADDRUSE"
                : request.Interface is not null ? "SO_BINDTODEVICE" : null,
            _ => request.ReusePortLoadBalance ? "SO_REUSEPORT_LB"
                : request.ExclusiveAddressUse ? "SO_EXCLUSIVEADDRUSE" : null,
        };

        /// <summary>The answer for an option the OS lacks: ENOPROTOOPT at setsockopt, and no socket opened.</summary>
        internal static ProbeOutcome Refused(TargetOS os, string option)
        {
            (string name, int code) = BindErrors.Describe(os, BindErrorKind.OptionNotSupported)!.Value;
            string note = "No trial socket was opened: " + OsBindText.Name(os) + " has no " + option + ", so setsockopt() could only fail with " + name + ".";
            return new ProbeOutcome(code, "setsockopt(" + option + ")", 0, note, synthesized: true);
        }

        internal static PortBindResult Combine(BindDecision predicted, ProbeOutcome trial, BindRequest request, TargetOS os)
        {
            PortBindResult engine = BindExplanation.ToResult(predicted, request, os, BindCheckMethod.Probed);
            BindErrorKind? kernel = BindErrors.FromNative(os, trial.Code);
            (string Name, int Code)? kernelError = trial.Code == 0 ? null : NativeError(os, kernel, trial.Code);
            string assigned = request.Port == 0 && trial.BoundPort != 0 ? " The kernel assigned port " + trial.BoundPort.ToString(CultureInfo.InvariantCulture) + " to the trial socket." : string.Empty;
            string note = trial.Note is null ? string.Empty : " " + trial.Note;
            bool settlesUnknownOptions = predicted.Error is BindErrorKind.AddressInUse or BindErrorKind.AccessDenied && predicted.DependsOn.Count > 0 && predicted.Conflicts.Count > 0
                && predicted.Conflicts.TrueForAll(c => c.Cause is ConflictCause.HolderOptionsUnknown or ConflictCause.WindowsOptionsUnknown or ConflictCause.BsdOptionsUnknown);
            if (kernel == predicted.Error)
            {
                string settled = settlesUnknownOptions ? "The trial bind failed with " + kernelError?.Name + ", so the options it depended on do not allow it. The engine's view: " : string.Empty;
                return Rebuild(engine, trial.Code == 0, kernelError, settled + engine.Reason + assigned + note, null);
            }

            // The engine said the bind depends on options it could not read; the kernel settled it.
            if (trial.Code == 0 && settlesUnknownOptions)
            {
                return Rebuild(engine, true, null, "The trial bind succeeded, so the options it depended on allow it. The engine's view: " + engine.Reason + assigned + note, null);
            }

            string predictedName = predicted.Error == BindErrorKind.None ? "success" : BindErrors.Describe(os, predicted.Error)!.Value.Name;
            string kernelName = kernelError is null ? "success" : kernelError.Value.Name;
            string step = trial.Code == 0 ? string.Empty : " at " + trial.Step;
            string reason;
            if (trial.Code == 0 && HiddenOptionsExplain(predicted, os))
            {
                reason = os == TargetOS.Windows
                    ? "The kernel allowed the bind, although the rule engine predicted " + predictedName + " from the socket table whatever SO_REUSEADDR or SO_EXCLUSIVEADDRUSE the sockets it names set (the Windows socket table does not show them): the table may have changed since it was read, or Windows shares more than its documented matrix. The engine's view: " + engine.Reason
                    : "The kernel allowed the bind, although the rule engine predicted EADDRINUSE from the socket table: the sockets it names keep SO_REUSEADDR or SO_REUSEPORT that could not be read. The engine's view: " + engine.Reason;
            }
            else
            {
                string who = trial.Synthesized ? "The trial bind answered " : "The kernel answered ";
                reason = who + kernelName + step + ", but the rule engine predicted " + predictedName + " from the socket table (it may have changed since it was read, or the answer depends on what the table does not show). The engine's view: " + engine.Reason;
            }

            return Rebuild(engine, trial.Code == 0, kernelError, reason + assigned + note, predictedName);
        }

        /// <summary>
        /// Whether a bind the kernel allowed was predicted to fail only because of holders whose
        /// sharing options the table does not show: Linux tables never show SO_REUSEADDR and
        /// SO_REUSEPORT, Windows tables never show SO_REUSEADDR and SO_EXCLUSIVEADDRUSE (libproc on
        /// macOS does show them).
        /// </summary>
        private static bool HiddenOptionsExplain(BindDecision predicted, TargetOS os) => os switch
        {
            TargetOS.Linux => predicted.Error == BindErrorKind.AddressInUse && predicted.Conflicts.TrueForAll(c => c.Cause == ConflictCause.HolderOptionsUnknown),
            TargetOS.Windows => predicted.Error is BindErrorKind.AddressInUse or BindErrorKind.AccessDenied
                && predicted.Conflicts.Count > 0 && predicted.Conflicts.TrueForAll(c => !c.Socket.FlagsKnown),
            _ => false,
        };

        /// <summary>The name and number of an OS's error: the rule engine's when it is the same number, else the OS's own name.</summary>
        internal static (string Name, int Code) NativeError(TargetOS os, BindErrorKind? kind, int code)
        {
            if (kind is BindErrorKind k && BindErrors.Describe(os, k) is (string, int) described && described.Code == code)
            {
                return described;
            }

            return (NativeName(os, code), code);
        }

        private static PortBindResult Rebuild(PortBindResult engine, bool canBind, (string Name, int Code)? error, string reason, string? predicted) => new PortBindResult
        {
            Protocol = engine.Protocol,
            Address = engine.Address,
            Port = engine.Port,
            CanBind = canBind,
            Error = error?.Name,
            ErrorCode = error?.Code,
            Conflicts = engine.Conflicts,
            Holder = canBind ? null : engine.Holder, // the engine's holders did not stop a bind the kernel allowed
            Reason = reason,
            Rule = engine.Rule,
            Method = BindCheckMethod.Probed,
            TargetOS = engine.TargetOS,
            PredictedError = predicted,
            Options = engine.Options,
            ComputerName = engine.ComputerName,
        };

        /// <summary>Names for the errors a trial bind can meet besides those the engine predicts.</summary>
        private static string NativeName(TargetOS os, int code) => os switch
        {
            // "Windows Sockets Error Codes" (Microsoft Learn).
            TargetOS.Windows => code switch
            {
                10014 => "WSAEFAULT",
                10024 => "WSAEMFILE",
                10036 => "WSAEINPROGRESS",
                10038 => "WSAENOTSOCK",
                10043 => "WSAEPROTONOSUPPORT",
                10044 => "WSAESOCKTNOSUPPORT",
                10045 => "WSAEOPNOTSUPP",
                10047 => "WSAEAFNOSUPPORT",
                10050 => "WSAENETDOWN",
                10093 => "WSANOTINITIALISED",
                _ => "Winsock error " + code.ToString(CultureInfo.InvariantCulture),
            },

            // XNU bsd/sys/errno.h (xnu-11417.101.15); user space sees EOPNOTSUPP as 102.
            TargetOS.MacOS or TargetOS.FreeBSD => code switch
            {
                1 => "EPERM",
                6 => "ENXIO",
                9 => "EBADF",
                12 => "ENOMEM",
                19 => "ENODEV",
                23 => "ENFILE",
                24 => "EMFILE",
                41 => "EPROTOTYPE",
                43 => "EPROTONOSUPPORT",
                45 => "ENOTSUP",
                47 => "EAFNOSUPPORT",
                102 => "EOPNOTSUPP",
                _ => "errno " + code.ToString(CultureInfo.InvariantCulture),
            },

            _ => code switch
            {
                1 => "EPERM",
                9 => "EBADF",
                12 => "ENOMEM",
                24 => "EMFILE",
                93 => "EPROTONOSUPPORT",
                95 => "EOPNOTSUPP",
                97 => "EAFNOSUPPORT",
                _ => "errno " + code.ToString(CultureInfo.InvariantCulture),
            },
        };
    }
}
