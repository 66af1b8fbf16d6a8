using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using PortTools.Linux;

namespace PortTools
{
    /// <summary>
    /// Test-PortBind on the live host: a real trial bind (and listen) with the requested options,
    /// closed at once, explained by the rule engine against the live table. When the kernel and the
    /// engine disagree, both answers are reported.
    /// </summary>
    public static class LiveBindCheck
    {
        /// <summary>Binds for real and explains the outcome.</summary>
        /// <param name="index">The live table and host facts.</param>
        /// <param name="request">The socket to try.</param>
        /// <returns>The kernel's answer with the engine's explanation.</returns>
        /// <exception cref="PlatformNotSupportedException">There is no trial bind for this OS yet.</exception>
        public static PortBindResult Probe(SocketIndex index, BindRequest request)
        {
            if (index is null)
            {
                throw new ArgumentNullException(nameof(index));
            }

            if (request is null)
            {
                throw new ArgumentNullException(nameof(request));
            }

            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                throw new PlatformNotSupportedException("A trial bind is available on Linux in this version; give -SocketTable to simulate instead.");
            }

            BindDecision predicted = RuleEngine.DecideBindCore(index, request);
            TrialBindOutcome trial = LinuxTrialBind.Probe(request);
            return Combine(predicted, trial, request, index.Facts.OS);
        }

        internal static PortBindResult Combine(BindDecision predicted, TrialBindOutcome trial, BindRequest request, TargetOS os)
        {
            PortBindResult engine = BindExplanation.ToResult(predicted, request, os, BindCheckMethod.Probed);
            BindErrorKind? kernel = BindErrors.FromLinuxErrno(trial.Errno);
            (string Name, int Code)? kernelError = trial.Errno == 0 ? null : kernel is BindErrorKind k ? BindErrors.Describe(os, k) : (LinuxErrnoName(trial.Errno), trial.Errno);
            string assigned = request.Port == 0 && trial.BoundPort != 0 ? " The kernel assigned port " + trial.BoundPort.ToString(CultureInfo.InvariantCulture) + " to the trial socket." : string.Empty;
            if (kernel == predicted.Error)
            {
                return Rebuild(engine, trial.Errno == 0, kernelError, engine.Reason + assigned, null);
            }

            string predictedName = predicted.Error == BindErrorKind.None ? "success" : BindErrors.Describe(os, predicted.Error)!.Value.Name;
            string kernelName = kernelError is null ? "success" : kernelError.Value.Name;
            string step = trial.Errno == 0 ? string.Empty : " at " + trial.Step;
            string reason;
            if (trial.Errno == 0 && predicted.Error == BindErrorKind.AddressInUse && predicted.Conflicts.TrueForAll(c => !c.Socket.FlagsKnown))
            {
                reason = "The kernel allowed the bind, although the rule engine predicted EADDRINUSE from the socket table: the sockets it names keep SO_REUSEADDR or SO_REUSEPORT, which a Linux socket table does not show and the engine took as off. The engine's view: " + engine.Reason;
            }
            else
            {
                reason = "The kernel answered " + kernelName + step + ", but the rule engine predicted " + predictedName + " from the socket table (it may have changed since it was read, or the answer depends on what the table does not show). The engine's view: " + engine.Reason;
            }

            return Rebuild(engine, trial.Errno == 0, kernelError, reason + assigned, predictedName);
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
            Reason = reason,
            Rule = engine.Rule,
            Method = BindCheckMethod.Probed,
            TargetOS = engine.TargetOS,
            PredictedError = predicted,
            Options = engine.Options,
            ComputerName = engine.ComputerName,
        };

        private static string LinuxErrnoName(int errno) => errno switch
        {
            1 => "EPERM",
            9 => "EBADF",
            12 => "ENOMEM",
            24 => "EMFILE",
            93 => "EPROTONOSUPPORT",
            95 => "EOPNOTSUPP",
            97 => "EAFNOSUPPORT",
            _ => "errno " + errno.ToString(CultureInfo.InvariantCulture),
        };
    }
}
