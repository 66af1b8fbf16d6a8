using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.Versioning;

namespace PortTools.Tests.Support
{
    /// <summary>
    /// What a child process running as another user (uid 65534, through setpriv) needs: files it can
    /// read and a .NET runtime it can start. A checkout may lie in a private folder (root's home is
    /// 0700 on Debian), where that user cannot reach the build output; so the child's files are copied
    /// into a folder it can read. The runtime cannot be copied: where the other user cannot reach it,
    /// the tests that need it skip and say why.
    /// </summary>
    public static class OtherUser
    {
        private static readonly Lazy<string?> s_unavailableReason = new(FindUnavailableReason);

        /// <summary>Why a child cannot run .NET as another user here, or null when it can.</summary>
        public static string? UnavailableReason => s_unavailableReason.Value;

        /// <summary>
        /// Copies a directory's files into a new folder under the temporary folder that other users can
        /// read, and returns that folder; it is removed when this process ends.
        /// </summary>
        [SupportedOSPlatform("linux")]
        public static string CopyReadable(string sourceDirectory)
        {
            string parent = new[] { Path.GetTempPath(), "/tmp", "/var/tmp" }.FirstOrDefault(OthersCanReach)
                ?? throw new InvalidOperationException("No temporary folder that other users can reach (TMPDIR=" + Environment.GetEnvironmentVariable("TMPDIR") + ", /tmp, /var/tmp).");
            string target = Path.Combine(parent, "porttools-other-user-" + Guid.NewGuid().ToString("N"));
            CopyDirectory(sourceDirectory, target);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(target);
            return target;
        }

        /// <summary>Whether a user who is neither the owner nor in the group can reach and read a file or folder.</summary>
        [SupportedOSPlatform("linux")]
        public static bool OthersCanRead(string path)
        {
            string full = Path.GetFullPath(path);
            if (!Ancestors(full).All(OthersCanSearch))
            {
                return false;
            }

            UnixFileMode mode = File.GetUnixFileMode(full);
            bool isDirectory = Directory.Exists(full);
            return mode.HasFlag(UnixFileMode.OtherRead) && (!isDirectory || mode.HasFlag(UnixFileMode.OtherExecute));
        }

        [SupportedOSPlatform("linux")]
        private static void CopyDirectory(string source, string target)
        {
            Directory.CreateDirectory(target);
            File.SetUnixFileMode(target, Readable | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            foreach (string file in Directory.GetFiles(source))
            {
                string copy = Path.Combine(target, Path.GetFileName(file));
                File.Copy(file, copy);
                File.SetUnixFileMode(copy, Readable | UnixFileMode.UserWrite);
            }

            foreach (string directory in Directory.GetDirectories(source))
            {
                CopyDirectory(directory, Path.Combine(target, Path.GetFileName(directory)));
            }
        }

        private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

        private static string? FindUnavailableReason()
        {
            if (!OperatingSystem.IsLinux())
            {
                return "Needs Linux.";
            }

            if (!Privilege.IsRoot)
            {
                return "Needs root: it starts processes under another user.";
            }

            if (PortTools.Tests.Text.Tools.Find("setpriv") is null)
            {
                return "Needs setpriv (Debian package util-linux) to start a process under another user.";
            }

            // setpriv finds dotnet on PATH, as the child will; the runtime lies beside the real file.
            string? muxer = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Select(d => Path.Combine(d, "dotnet"))
                .FirstOrDefault(File.Exists);
            if (muxer is null)
            {
                return "Needs dotnet on PATH for the child under another user.";
            }

            string real = new FileInfo(muxer).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? muxer;
            string root = Path.GetDirectoryName(real)!;
            if (!File.GetUnixFileMode(real).HasFlag(UnixFileMode.OtherExecute))
            {
                return "Other users cannot run " + real + ", so no child can run as another user.";
            }

            foreach (string needed in new[] { Path.GetDirectoryName(muxer)!, root, Path.Combine(root, "host", "fxr"), Path.Combine(root, "shared", "Microsoft.NETCore.App") })
            {
                if (!OthersCanRead(needed))
                {
                    return "The .NET runtime at " + root + " cannot be reached by other users (" + needed + " or a folder above it is private), so no child can run as another user: install .NET where all users can read it.";
                }
            }

            return null;
        }

        [SupportedOSPlatform("linux")]
        private static bool OthersCanReach(string directory)
        {
            string full = Path.GetFullPath(directory);
            return OthersCanSearch(full) && Ancestors(full).All(OthersCanSearch);
        }

        [SupportedOSPlatform("linux")]
        private static bool OthersCanSearch(string directory) =>
            Directory.Exists(directory) && File.GetUnixFileMode(directory).HasFlag(UnixFileMode.OtherExecute);

        private static IEnumerable<string> Ancestors(string path)
        {
            for (string? directory = Path.GetDirectoryName(path); directory is not null; directory = Path.GetDirectoryName(directory))
            {
                yield return directory;
            }
        }

        private static void TryDelete(string directory)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Gone already, or in use: it is a uniquely named temporary folder.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
